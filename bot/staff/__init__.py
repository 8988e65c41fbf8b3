"""The staff pages: accounts, sign-in, the lead inbox, transcripts, the reports.

`bot.staff.app.make_staff_app(settings)` is the sub-application the web app mounts at /staff;
`python -m bot staff ...` (`bot.staff.cli.main`) manages the accounts. What happens to a lead
lives in `bot.leads`: these pages show it and ask for it.
"""
