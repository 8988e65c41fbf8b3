"""Every address of the staff pages, each with a name for `url_for` (prefixed `/staff` when mounted)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.leads.links import LEAD_PAGE
from bot.staff.pages import STATIC_ROUTE
from bot.staff.schedule_routes import setup_schedule_routes
from bot.staff.views import insights, leads, reports, sign_in

STATIC_DIR = Path(__file__).resolve().parent / "static"


def setup_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("", sign_in.index, name="staff_index")
    login = router.add_resource("/login", name="staff_login")
    login.add_route("GET", sign_in.login_page)
    login.add_route("POST", sign_in.login_submit)
    router.add_post("/logout", sign_in.logout, name="staff_logout")
    password = router.add_resource("/password", name="staff_password")
    password.add_route("GET", sign_in.password_page)
    password.add_route("POST", sign_in.password_submit)
    router.add_get("/leads", leads.leads_page, name="staff_leads")
    router.add_post("/leads/export", leads.leads_export, name="staff_leads_export")
    # The one address notices link to (bot.leads.links).
    router.add_get(LEAD_PAGE, leads.lead_page, name="staff_lead")
    router.add_post(LEAD_PAGE + "/status", leads.lead_status, name="staff_lead_status")
    router.add_post(LEAD_PAGE + "/notes", leads.lead_note, name="staff_lead_note")
    delete = router.add_resource(LEAD_PAGE + "/delete", name="staff_lead_delete")
    delete.add_route("GET", leads.lead_delete_page)
    delete.add_route("POST", leads.lead_delete)
    router.add_get("/unanswered", reports.unanswered_page, name="staff_unanswered")
    router.add_get("/audit", reports.audit_page, name="staff_audit")
    setup_schedule_routes(router)
    router.add_get("/insights", insights.insights_page, name="staff_insights")
    router.add_post("/insights/export", insights.insights_export, name="staff_insights_export")
    router.add_static("/static/", STATIC_DIR, name=STATIC_ROUTE, append_version=True)
