"""The schedule's addresses in the staff pages: the week, the settings, a lead's visit, the visits feed."""

from __future__ import annotations

from aiohttp import web

from bot.leads.links import LEAD_PAGE
from bot.staff.guard import VISITS_FEED_ROUTE
from bot.staff.views import schedule, schedule_settings, visits

SETTINGS = "/schedule/settings"


def setup_schedule_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/schedule", schedule.week_page, name="staff_schedule")
    router.add_get(r"/calendar/{token:[A-Za-z0-9_-]{1,64}}.ics", schedule.visits_feed, name=VISITS_FEED_ROUTE)

    router.add_get(SETTINGS, schedule_settings.settings_page, name="staff_schedule_settings")
    post = [
        ("/visit-types", schedule_settings.add_visit_type, "staff_schedule_visit_type_add"),
        (r"/visit-types/{visit_type_id:\d+}", schedule_settings.update_visit_type, "staff_schedule_visit_type"),
        ("/hours", schedule_settings.weekly_hours, "staff_schedule_hours"),
        ("/capacity", schedule_settings.capacity, "staff_schedule_capacity"),
        ("/exceptions", schedule_settings.add_exception, "staff_schedule_exception_add"),
        (r"/exceptions/{exception_id:\d+}/delete", schedule_settings.delete_exception,
         "staff_schedule_exception_delete"),
        ("/calendar", schedule_settings.calendar_feed, "staff_schedule_feed"),
        ("/calendar/refresh", schedule_settings.refresh_calendar, "staff_schedule_feed_refresh"),
        ("/visits-feed", schedule_settings.new_visits_feed_address, "staff_schedule_visits_feed_new"),
    ]
    for path, handler, name in post:
        router.add_post(SETTINGS + path, handler, name=name)

    router.add_post(LEAD_PAGE + "/visit/confirm", visits.confirm, name="staff_lead_visit_confirm")
    router.add_post(LEAD_PAGE + "/visit/decline", visits.decline, name="staff_lead_visit_decline")
    propose = router.add_resource(LEAD_PAGE + "/visit/propose", name="staff_lead_visit_propose")
    propose.add_route("GET", visits.propose_page)
    propose.add_route("POST", visits.propose)
