"""The staff pages: accounts, sign-in, the lead inbox, transcripts, the audit log.

`bot.staff.web.setup_staff(app, settings)` adds them to the web app under /staff;
`python -m bot staff ...` (`bot.staff.cli.main`) manages the accounts.
"""
