"""Real openings: the bookable schedule staff set, the clinic calendar's busy times, and the
times visitors pick, held and requested within capacity.

`openings.find_openings` offers times; `bookings` holds, requests, confirms, declines, moves and
lapses them; `feed` reads the clinic's calendar feed; `calendar` writes iCalendar files of the
visits; `worker` refreshes the feed and lapses expired times in the web app; `changes` saves what
administrators change in the schedule settings. All times are aware UTC; the clinic's local time
is `settings.clinic_timezone`.
"""
