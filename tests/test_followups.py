"""Follow-ups after each session and certificates by email, end to end over real SMTP."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from s3events.attendance import import_attendance
from s3events.cli import cli
from s3events.dispatch import dispatch, preview
from s3events.errors import InputError
from s3events.ledger import status_counts
from s3events.store import open_store
from tests.test_dispatch_support import add_person, make_series, provision, rows

UTC = timezone.utc
FIXTURES = Path(__file__).parent / "fixtures" / "attendance"
S1_END = datetime(2021, 10, 28, 17, 30, tzinfo=UTC)
S2_END = datetime(2021, 11, 4, 18, 30, tzinfo=UTC)
PEOPLE = [
    ("jose@example.org", "José Peña", "es", "America/Mexico_City"),
    ("ana@example.org", "Ana Souza", "pt", "America/Sao_Paulo"),
    ("kim@example.org", "Kim Lee", "en", "America/Santiago"),
    ("eleni@example.org", "Ελένη Παπαδοπούλου", "en", "Europe/Athens"),
]
SESSIONS = [
    {"id": "s1", "title": {"en": "First", "es": "Primera", "pt": "Primeira"},
     "start": "2021-10-28T17:00:00", "end": "2021-10-28T19:30:00",
     "recording_url": "https://video.example.org/s1",
     "materials": [{"title": {"en": "Slides", "es": "Diapositivas", "pt": "Diapositivos"},
                    "url": "https://files.example.org/s1-slides.pdf"},
                   {"title": "Reading list", "url": "https://files.example.org/s1-reading"}]},
    {"id": "s2", "title": {"en": "Second", "es": "Segunda", "pt": "Segunda"},
     "start": "2021-11-04T17:00:00", "end": "2021-11-04T19:30:00"},
]


@pytest.fixture
def setup(state_url, write_series):
    series = make_series(write_series, sessions=SESSIONS,
                         dispatch={"followup": {"after": "PT2H"},
                                   "certificates": {"min_sessions": 1}})
    store = open_store(state_url)
    provision(store, series)
    ids = {email: add_person(store, series, email, name=name, language=lang, zone=zone,
                             sessions=["s1", "s2"] if email != "kim@example.org" else None)
           for email, name, lang, zone in PEOPLE}
    yield series, store, ids
    store.close()


def body(received) -> str:
    return received.email.get_body(("plain",)).get_content()


def kinds_sent(store) -> list[tuple[str, str, str]]:
    return sorted((r.registration_id, r.session_id or "-", r.kind)
                  for r in rows(store, state="sent") if r.kind in
                  ("followup", "missed", "certificate"))


def test_each_attendee_gets_one_followup_and_each_no_show_one_missed(setup, smtp_server):
    series, store, _ids = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1",
                      now=S1_END + timedelta(minutes=30))
    early = dispatch(store, series, now=S1_END + timedelta(minutes=90),
                     transport=smtp_server.url)
    assert not [k for k in early.sent if k[1] in ("followup", "missed")]
    smtp_server.messages.clear()
    report = dispatch(store, series, now=S1_END + timedelta(hours=2),
                      transport=smtp_server.url)
    assert report.sent[("s1", "followup", "email")] == 2
    assert report.sent[("s1", "missed", "email")] == 2
    by_person = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    jose = by_person["jose@example.org"]
    assert jose.email["Subject"] == "Gracias por su participación: Primera"
    text = body(jose)
    assert "Le agradecemos su participación en Primera el jueves, 28 de octubre de 2021." in text
    assert "Grabación: https://video.example.org/s1" in text
    assert "- Diapositivas: https://files.example.org/s1-slides.pdf" in text
    assert "- Reading list: https://files.example.org/s1-reading" in text
    html = jose.email.get_body(("html",)).get_content()
    assert 'href="https://files.example.org/s1-slides.pdf">Diapositivas</a>' in html
    ana = by_person["ana@example.org"]  # 7 minutes: below attendance.min_minutes
    assert ana.email["Subject"] == "Sentimos sua falta: Primeira"
    assert "Gravação: https://video.example.org/s1" in body(ana)
    assert "Segunda" in body(ana)  # the next session she registered for
    assert by_person["kim@example.org"].email["Subject"] == "Thank you for attending: First"
    eleni = body(by_person["eleni@example.org"])
    assert "We missed you at First on Thursday, October 28, 2021." in eleni
    assert not any(part.get_content_type() == "text/calendar"
                   for r in smtp_server.messages for part in r.email.walk())
    sent = len(smtp_server.messages)
    again = dispatch(store, series, now=S1_END + timedelta(hours=3), transport=smtp_server.url)
    assert again.total_sent == 0 and len(smtp_server.messages) == sent
    counts = {(c.session_id, c.kind, c.state): c.count for c in status_counts(store, series.id)}
    assert counts[("s1", "followup", "sent")] == 2 and counts[("s1", "missed", "sent")] == 2


def test_a_corrected_report_turns_a_pending_missed_into_a_followup(setup, smtp_server,
                                                                    tmp_path):
    series, store, ids = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=S1_END)
    dispatch(store, series, now=S1_END + timedelta(minutes=10), transport=smtp_server.url)
    fixed = tmp_path / "fixed.csv"
    fixed.write_text((FIXTURES / "day1.csv").read_text(encoding="utf-8").replace(
        "2021-10-28T15:12:00Z", "2021-10-28T16:12:00Z"), encoding="utf-8")
    import_attendance(store, series, fixed, session_id="s1", now=S1_END)
    smtp_server.messages.clear()
    dispatch(store, series, now=S1_END + timedelta(hours=2), transport=smtp_server.url)
    ana = [m for m in smtp_server.messages if m.rcpt_tos == ["ana@example.org"]]
    assert len(ana) == 1 and ana[0].email["Subject"].startswith("Obrigado")
    states = {(r.kind, r.state) for r in rows(store, registration_id=ids["ana@example.org"],
                                               session_id="s1")}
    assert ("missed", "cancelled") in states and ("followup", "sent") in states


def test_without_a_followup_section_nothing_is_sent_after_the_session(state_url, write_series,
                                                                      smtp_server):
    series = make_series(write_series, sessions=SESSIONS)
    with open_store(state_url) as store:
        provision(store, series)
        for email, name, lang, zone in PEOPLE:
            add_person(store, series, email, name=name, language=lang, zone=zone)
        import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=S1_END)
        dispatch(store, series, now=S2_END + timedelta(days=1), transport=smtp_server.url)
        assert kinds_sent(store) == []


def test_certificates_go_by_email_with_the_pdf_after_the_last_session(setup, smtp_server,
                                                                      tmp_path):
    series, store, _ids = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=S1_END)
    dispatch(store, series, now=S1_END + timedelta(hours=3), transport=smtp_server.url)
    assert not [k for k in kinds_sent(store) if k[2] == "certificate"]
    text = (FIXTURES / "day1.csv").read_text(encoding="utf-8").replace(
        "2021-10-28T", "2021-11-04T").replace("+02:00", "+01:00")
    target = tmp_path / "day2.csv"
    target.write_text(text.replace("Ana Souza,,", "Ελένη Παπαδοπούλου,eleni@example.org,")
                      .replace("15:12:00Z", "16:12:00Z"), encoding="utf-8")
    import_attendance(store, series, target, session_id="s2", now=S2_END)
    smtp_server.messages.clear()
    dispatch(store, series, now=S2_END + timedelta(hours=2), transport=smtp_server.url)
    certificates = {m.rcpt_tos[0]: m for m in smtp_server.messages
                    if "ertifica" in m.email["Subject"]}
    assert sorted(certificates) == ["eleni@example.org", "jose@example.org",
                                    "kim@example.org"]
    jose = certificates["jose@example.org"].email
    assert jose["Subject"].startswith("Su certificado de asistencia")
    attachment = next(p for p in jose.iter_attachments()
                      if p.get_content_type() == "application/pdf")
    assert attachment.get_filename() == \
        attachment.get_filename().encode("ascii").decode()  # plain file name
    pdf = PdfReader(io.BytesIO(attachment.get_content()))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "José Peña" in text and "Certificado de asistencia" in text
    assert "jueves, 28 de octubre de 2021" in text and "jueves, 4 de noviembre de 2021" in text
    eleni = certificates["eleni@example.org"].email
    epdf = next(p for p in eleni.iter_attachments())
    etext = PdfReader(io.BytesIO(epdf.get_content())).pages[0].extract_text()
    assert "Ελένη Παπαδοπούλου" in etext and "Thursday, November 4, 2021" in etext
    assert "October 28" not in etext  # she attended the second session only
    sent = len(smtp_server.messages)
    dispatch(store, series, now=S2_END + timedelta(hours=5), transport=smtp_server.url)
    assert len(smtp_server.messages) == sent


def test_followups_and_certificates_can_be_previewed(setup):
    series, store, _ids = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=S1_END)
    message = preview(store, series, email="jose@example.org", session_id="s1",
                      kind="missed", now=S1_END)
    assert message.subject == "Le echamos de menos: Primera"
    certificate = preview(store, series, email="kim@example.org", session_id=None,
                          kind="certificate", now=S1_END)
    assert certificate.attachments[0].content_type == "application/pdf"
    with pytest.raises(InputError, match="does not qualify for a certificate"):
        preview(store, series, email="ana@example.org", session_id=None,  # 7 minutes
                kind="certificate", now=S1_END)
    runner = CliRunner()
    state = store.engine.url.database if store.dialect == "sqlite" else \
        store.engine.url.render_as_string(hide_password=False)
    shown = runner.invoke(cli, ["preview", str(series.source), "--state", state,
                                "--registration", "kim@example.org", "--session", "s1",
                                "--kind", "followup"])
    assert shown.exit_code == 0, shown.output
    assert "Thank you for attending First" in shown.output
    assert "https://files.example.org/s1-slides.pdf" in shown.output


def test_a_pass_for_some_people_plans_for_them_what_a_pass_for_everyone_would(
        setup, write_series):
    """The scheduler's pass for a batch (an import, a web registration) reads only that
    batch's attendance and rows, and owes them exactly what a full pass owes them."""
    from s3events.followups import plan_after_sessions

    series, store, ids = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1",
                      now=S1_END + timedelta(minutes=30))
    later = S1_END + timedelta(hours=3)
    jose, kim = ids["jose@example.org"], ids["kim@example.org"]
    assert plan_after_sessions(store, series, now=later, registration_ids=[jose]) == 1
    assert [(r.registration_id, r.kind) for r in rows(store, session_id="s1")
            if r.kind in ("followup", "missed")] == [(jose, "followup")]
    assert plan_after_sessions(store, series, now=later, registration_ids=[jose]) == 0
    assert plan_after_sessions(store, series, now=later, registration_ids=[kim]) == 1
    full = plan_after_sessions(store, series, now=later)  # the others: nothing twice
    assert full == 2
    owed = {(r.registration_id, r.kind) for r in rows(store, session_id="s1")
            if r.kind in ("followup", "missed")}
    ana, eleni = ids["ana@example.org"], ids["eleni@example.org"]  # 7 minutes; absent
    assert owed == {(jose, "followup"), (kim, "followup"), (ana, "missed"), (eleni, "missed")}


def test_a_certificate_no_font_can_print_fails_alone_and_the_others_go(setup, smtp_server,
                                                                       tmp_path):
    series, store, _ids = setup
    arabic = add_person(store, series, "mohammed@example.ae", name="محمد العلي",
                        language="en", zone="Asia/Dubai")
    for session_id, day, end in (("s1", "2021-10-28", S1_END), ("s2", "2021-11-04", S2_END)):
        joins = tmp_path / f"{session_id}.csv"
        joins.write_text("name,email,join_time,leave_time\n"
                         f"محمد العلي,mohammed@example.ae,{day}T16:00:00Z,{day}T17:00:00Z\n"
                         f"José Peña,jose@example.org,{day}T16:00:00Z,{day}T17:00:00Z\n",
                         encoding="utf-8")
        import_attendance(store, series, joins, session_id=session_id, now=end)
    report = dispatch(store, series, now=S2_END + timedelta(hours=2), transport=smtp_server.url)
    certificates = [m for m in smtp_server.messages if "ertifica" in m.email["Subject"]]
    assert [m.rcpt_tos for m in certificates] == [["jose@example.org"]]
    (failed,) = rows(store, registration_id=arabic, session_id=None, state="failed")
    assert failed.kind == "certificate" and "Arabic" in failed.last_error
    assert "محمد" not in failed.last_error and "mohammed@" not in failed.last_error
    assert report.total_sent >= 1  # the run went on past the failed one
