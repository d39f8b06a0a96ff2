"""The route table: every URL of the portal by dotted name, the whole surface in one place."""

from __future__ import annotations

from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from portal.paths import STATIC_DIR
from portal.settings import Settings
from portal.web import account, auth_views, consent_links, dev, health, ids, language, webhooks
from portal.web.staff import accounts as staff_accounts
from portal.web.staff import alerts as staff_alerts
from portal.web.staff import conversations as staff_conversations
from portal.web.staff import dashboard as staff_dashboard
from portal.web.staff import families as staff_families
from portal.web.staff import imports as staff_imports
from portal.web.staff import message_templates as staff_templates
from portal.web.staff import messages as staff_messages
from portal.web.staff import metrics as staff_metrics
from portal.web.staff import people as staff_people
from portal.web.staff import proof as staff_proof
from portal.web.staff import requests as staff_requests
from portal.web.staff import saved_lists as staff_lists
from portal.web.staff import settings as staff_settings


def routes(settings: Settings) -> list:
    """Every route of the portal, by dotted name: the whole surface in one table."""
    G, P = ["GET"], ["POST"]  # GET routes answer HEAD too; only POSTs change anything
    ids.register_route_convertor()  # `{name:id}`: a row id in range, or the route won't match
    # fmt: off
    table = [
        Route("/", auth_views.home, name="home"),
        Route("/healthz", health.healthz, name="health"),
        Route("/language", language.choose, methods=P, name="language.choose"),
        Route("/login", auth_views.login_form, methods=G, name="auth.login_form"),
        Route("/login", auth_views.login, methods=P, name="auth.login"),
        Route("/logout", auth_views.logout_form, methods=G, name="auth.logout_form"),
        Route("/logout", auth_views.logout, methods=P, name="auth.logout"),
        Route("/forgot-password", auth_views.forgot_form, methods=G, name="auth.forgot_form"),
        Route("/forgot-password", auth_views.forgot, methods=P, name="auth.forgot"),
        Route("/reset-password/{token}", auth_views.reset_form, methods=G, name="auth.reset_form"),
        Route("/reset-password/{token}", auth_views.reset, methods=P, name="auth.reset"),
        Route("/invite/{token}", auth_views.invite_form, methods=G, name="auth.invite_form"),
        Route("/invite/{token}", auth_views.invite, methods=P, name="auth.invite"),
        Route("/account/password", auth_views.password_form, methods=G,
              name="account.password_form"),
        Route("/account/password", auth_views.change_password, methods=P,
              name="account.password"),
        Route("/account/settings", account.settings, methods=G, name="account.settings"),
        Route("/account/settings/edit", account.edit_form, methods=G,
              name="account.settings_edit_form"),
        Route("/account/settings/edit", account.edit, methods=P,
              name="account.settings_edit"),
        Route("/account/contacts", account.contacts, methods=G, name="account.contacts"),
        Route("/account/contacts/{person_id:id}/edit", account.edit_form, methods=G,
              name="account.contact_edit_form"),
        Route("/account/contacts/{person_id:id}/edit", account.edit, methods=P,
              name="account.contact_edit"),
        Route("/account/contacts/{person_id:id}/invite", account.invite, methods=P,
              name="account.contact_invite"),
        Route("/account/students", account.students, methods=G, name="account.students"),
        Route("/account/students/{person_id:id}", account.student, methods=G,
              name="account.student"),
        Route("/account/students/{person_id:id}/edit", account.edit_form, methods=G,
              name="account.student_edit_form"),
        Route("/account/students/{person_id:id}/edit", account.edit, methods=P,
              name="account.student_edit"),
        Route("/text-consent/{token}", consent_links.link, methods=G, name="consent.link"),
        Route("/text-consent/{token}", consent_links.answer, methods=P, name="consent.answer"),
        Route("/text-consent/{token}/new-link", consent_links.new_link, methods=P,
              name="consent.new_link"),
        # Webhooks: no CSRF token; each checks X-Twilio-Signature before anything else.
        Route("/webhooks/twilio/sms", webhooks.sms, methods=P, name="webhooks.sms"),
        Route("/webhooks/twilio/status", webhooks.status, methods=P, name="webhooks.status"),
        Route("/staff/people", staff_people.people, methods=G, name="staff.people"),
        Route("/staff/people/{person_id:id}", staff_people.person, methods=G, name="staff.person"),
        Route("/staff/people/{person_id:id}", staff_people.save, methods=P,
              name="staff.person_save"),
        Route("/staff/people/{person_id:id}/request", staff_people.send_request, methods=P,
              name="staff.person_request"),
        Route("/staff/people/{person_id:id}/correct", staff_people.correct, methods=P,
              name="staff.person_correct"),
        # staff: settings (admins)
        Route("/staff/settings", staff_settings.settings, methods=G, name="staff.settings"),
        Route("/staff/settings/organization", staff_settings.save_organization, methods=P,
              name="staff.settings_organization"),
        Route("/staff/settings/wording", staff_settings.publish_wording, methods=P,
              name="staff.settings_wording"),
        Route("/staff/settings/replies", staff_settings.publish_reply, methods=P,
              name="staff.settings_reply"),
        # staff: families, intake and bulk requests
        Route("/staff/families", staff_families.family_list, methods=G, name="staff.families"),
        Route("/staff/families", staff_families.family_create, methods=P,
              name="staff.family_create"),
        Route("/staff/families/{family_id:id}", staff_families.family, methods=G,
              name="staff.family"),
        Route("/staff/families/{family_id:id}/rename", staff_families.family_rename, methods=P,
              name="staff.family_rename"),
        Route("/staff/families/{family_id:id}/add", staff_families.add_form, methods=G,
              name="staff.family_add_form"),
        Route("/staff/families/{family_id:id}/add", staff_families.add, methods=P,
              name="staff.family_add"),
        Route("/staff/families/{family_id:id}/people/{person_id:id}", staff_families.member,
              methods=G, name="staff.family_person"),
        Route("/staff/families/{family_id:id}/people/{person_id:id}", staff_families.member_edit,
              methods=P, name="staff.family_person_edit"),
        Route("/staff/families/{family_id:id}/people/{person_id:id}/invite",
              staff_families.member_invite, methods=P, name="staff.family_person_invite"),
        Route("/staff/families/{family_id:id}/people/{person_id:id}/move",
              staff_families.member_move, methods=P, name="staff.family_person_move"),
        Route("/staff/families/{family_id:id}/people/{person_id:id}/archive",
              staff_families.member_archive, methods=P, name="staff.family_person_archive"),
        Route("/staff/requests", staff_requests.choose, methods=G, name="staff.requests"),
        Route("/staff/requests", staff_requests.send, methods=P, name="staff.request_send"),
        Route("/staff/requests/{batch_id:id}", staff_requests.batch, methods=G,
              name="staff.request_batch"),
        Route("/staff/requests/{batch_id:id}/resume", staff_requests.resume, methods=P,
              name="staff.request_batch_resume"),
        Route("/staff/messages", staff_messages.messages, methods=G, name="staff.messages"),
        Route("/staff/messages/preview", staff_messages.preview, methods=P,
              name="staff.message_preview"),
        Route("/staff/messages/send", staff_messages.send, methods=P, name="staff.message_send"),
        Route("/staff/messages/{mass_text_id:id}", staff_messages.mass_text, methods=G,
              name="staff.mass_text"),
        Route("/staff/messages/{mass_text_id:id}/cancel", staff_messages.cancel, methods=P,
              name="staff.mass_text_cancel"),
        # staff: conversations, reports and metrics
        Route("/staff/messages/{mass_text_id:id}/export.csv", staff_messages.mass_text_export,
              methods=G, name="staff.mass_text_export"),
        Route("/staff/messages/conversations", staff_conversations.conversations_list,
              methods=G, name="staff.conversations"),
        Route("/staff/messages/conversations/{phone}", staff_conversations.conversation,
              methods=G, name="staff.conversation"),
        Route("/staff/messages/conversations/{phone}/reply", staff_conversations.reply,
              methods=P, name="staff.conversation_reply"),
        Route("/staff/messages/metrics", staff_metrics.metrics_page, methods=G,
              name="staff.metrics"),
        # staff: message templates and saved lists
        Route("/staff/messages/templates", staff_templates.templates, methods=G,
              name="staff.message_templates"),
        Route("/staff/messages/templates", staff_templates.create, methods=P,
              name="staff.message_template_create"),
        Route("/staff/messages/templates/{template_id:id}", staff_templates.edit, methods=G,
              name="staff.message_template"),
        Route("/staff/messages/templates/{template_id:id}", staff_templates.save, methods=P,
              name="staff.message_template_save"),
        Route("/staff/messages/templates/{template_id:id}/delete", staff_templates.delete,
              methods=P, name="staff.message_template_delete"),
        Route("/staff/lists", staff_lists.lists, methods=G, name="staff.saved_lists"),
        Route("/staff/lists", staff_lists.create, methods=P, name="staff.saved_list_create"),
        Route("/staff/lists/{list_id:id}", staff_lists.saved_list, methods=G,
              name="staff.saved_list"),
        Route("/staff/lists/add", staff_lists.add, methods=P, name="staff.saved_list_add"),
        Route("/staff/lists/{list_id:id}/people/{person_id:id}/remove", staff_lists.remove,
              methods=P, name="staff.saved_list_remove"),
        Route("/staff/lists/{list_id:id}/delete", staff_lists.delete, methods=P,
              name="staff.saved_list_delete"),
        # staff: alerts and staff logins
        Route("/staff/alerts", staff_alerts.alerts, methods=G, name="staff.alerts"),
        Route("/staff/alerts/opt-outs/{event_id:id}/seen", staff_alerts.seen, methods=P,
              name="staff.alert_seen"),
        Route("/staff/alerts/opt-outs/seen", staff_alerts.seen_all, methods=P,
              name="staff.alerts_seen_all"),
        Route("/staff/alerts/texts/{message_id:id}/reviewed", staff_alerts.reviewed, methods=P,
              name="staff.alert_reviewed"),
        Route("/staff/alerts/messages/{outbox_id:id}/retry", staff_alerts.retry, methods=P,
              name="staff.alert_retry"),
        Route("/staff/accounts", staff_accounts.accounts, methods=G, name="staff.accounts"),
        Route("/staff/accounts", staff_accounts.create, methods=P, name="staff.account_create"),
        Route("/staff/accounts/{account_id:id}", staff_accounts.update, methods=P,
              name="staff.account_update"),
        # staff: dashboard, proof and import
        Route("/staff/", staff_dashboard.dashboard, methods=G, name="staff.dashboard"),
        Route("/staff/proof", staff_proof.proof, methods=G, name="staff.proof"),
        Route("/staff/proof/export.csv", staff_proof.proof_export, methods=G,
              name="staff.proof_export"),
        Route("/staff/proof/numbers/{phone}", staff_proof.proof_number, methods=G,
              name="staff.proof_number"),
        Route("/staff/proof/numbers/{phone}/export.csv", staff_proof.proof_number_export,
              methods=G, name="staff.proof_number_export"),
        Route("/staff/import", staff_imports.import_form, methods=G, name="staff.import_form"),
        Route("/staff/import", staff_imports.import_upload, methods=P,
              name="staff.import_upload"),
        Route("/staff/import/files/{pending_id:id}", staff_imports.import_review, methods=G,
              name="staff.import_review"),
        Route("/staff/import/files/{pending_id:id}", staff_imports.import_start, methods=P,
              name="staff.import_start"),
        Route("/staff/import/jobs/{job_id:id}", staff_imports.import_job, methods=G,
              name="staff.import_job"),
        Mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    if settings.is_development:
        # Only in development: nobody's real mail is ever shown here.
        table += [
            Route("/dev/mailbox", dev.mailbox, methods=G, name="dev.mailbox"),
            Route("/dev/mailbox/{index:int}.html", dev.mail_html, methods=G,
                  name="dev.mail_html"),
            Route("/dev/phone", dev.phone, methods=G, name="dev.phone"),
            Route("/dev/phone", dev.phone_send, methods=P, name="dev.phone_send"),
            Route("/dev/phone/status", dev.phone_mark, methods=P, name="dev.phone_mark"),
        ]
    # fmt: on
    return table
