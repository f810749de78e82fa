"""Certificates of attendance: one PDF per qualifying person, codes that verify."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from pypdf import PdfReader

from s3events.attendance import import_attendance
from s3events.certificates import certificate_code, normalise_code, verify_certificate
from s3events.cli import cli, main
from s3events.errors import InputError
from s3events.store import open_store
from tests.test_dispatch_support import add_person, make_series, provision

UTC = timezone.utc
FIXTURES = Path(__file__).parent / "fixtures" / "attendance"
PEOPLE = [
    ("jose@example.org", "José Peña", "es", "America/Mexico_City"),
    ("ana@example.org", "Ana Souza", "pt", "America/Sao_Paulo"),
    ("kim@example.org", "Kim Lee", "en", "Asia/Tokyo"),
    ("eleni@example.org", "Ελένη Παπαδοπούλου", "en", "Europe/Athens"),
    ("dmitri@example.org", "Дмитрий Иванов", "en", "Europe/Riga"),
]


@pytest.fixture
def attended(state_url, write_series, tmp_path):
    """s1 from the Zoom report (José, Kim, Eleni), s2 from the Webex one (José, Dmitri)."""
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        for email, name, lang, zone in PEOPLE:
            add_person(store, series, email, name=name, language=lang, zone=zone)
        import_attendance(store, series, FIXTURES / "zoom-participants.csv", session_id="s1",
                          now=datetime(2021, 10, 28, 18, tzinfo=UTC))
        webex = (FIXTURES / "webex-attendance.csv").read_bytes().decode("utf-16").replace(
            "28/10/2021", "04/11/2021")
        day2 = tmp_path / "webex-day2.csv"
        day2.write_bytes(webex.encode("utf-16"))
        import_attendance(store, series, day2, session_id="s2",
                          now=datetime(2021, 11, 4, 19, tzinfo=UTC))
    return series, state_url


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def pdf_text(path: str) -> str:
    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def test_one_pdf_per_person_who_attended_with_their_name_and_sessions(attended, tmp_path):
    series, state = attended
    out = tmp_path / "certificates"
    done = run("certificates", str(series.source), "-o", str(out), "--min-sessions", "1",
               "--json", "--state", state)
    assert done.exit_code == 0, done.output
    listed = json.loads(done.output)
    assert sorted(c["email"] for c in listed) == ["dmitri@example.org", "eleni@example.org",
                                                 "jose@example.org", "kim@example.org"]
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(c["file"]).name
                                                           for c in listed)
    by_email = {c["email"]: c for c in listed}
    jose = pdf_text(by_email["jose@example.org"]["file"])
    assert "José Peña" in jose and "Certificado de asistencia" in jose
    assert "jueves, 28 de octubre de 2021" in jose and "jueves, 4 de noviembre de 2021" in jose
    assert "hora de Ciudad de México" in jose and by_email["jose@example.org"]["code"] in jose
    kim = pdf_text(by_email["kim@example.org"]["file"])
    assert "Kim Lee" in kim and "Friday, October 29, 2021" in kim  # 00:01 in Tokyo
    assert "Second" not in kim
    assert "Ελένη Παπαδοπούλου" in pdf_text(by_email["eleni@example.org"]["file"])
    assert "Дмитрий Иванов" in pdf_text(by_email["dmitri@example.org"]["file"])
    assert "Demo Centre" in kim


def test_min_sessions_leaves_out_who_attended_fewer(attended, tmp_path):
    series, state = attended
    done = run("certificates", str(series.source), "-o", str(tmp_path / "two"),
               "--min-sessions", "2", "--json", "--state", state)
    assert [c["email"] for c in json.loads(done.output)] == ["jose@example.org"]
    short = run("certificates", "write", str(series.source), "-o", str(tmp_path / "x"),
                "--state", state)
    assert short.output.strip() == f"wrote 4 certificate(s) to {tmp_path / 'x'}"


def main_exit(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return int(done.value.code or 0), capsys.readouterr().err


def test_verify_accepts_each_code_and_refuses_a_changed_one(attended, tmp_path, capsys):
    series, state = attended
    listed = json.loads(run("certificates", str(series.source), "-o", str(tmp_path / "c"),
                            "--json", "--state", state).output)
    for entry in listed:
        ok = run("certificates", "verify", str(series.source), entry["code"], "--state", state)
        assert ok.exit_code == 0, ok.output
        assert ok.output.startswith("genuine: certificate of attendance of ")
        assert f"<{entry['email']}> in demo" in ok.output
    code = listed[0]["code"]
    typed = code.lower().replace("-", " ")
    assert run("certificates", "verify", str(series.source), typed, "--state",
               state).exit_code == 0
    unquoted = run("certificates", "verify", str(series.source), *typed.split(), "--state",
                   state)  # as read aloud or copied from the page: four words
    assert unquoted.exit_code == 0, unquoted.output
    changed = code[:-1] + ("A" if code[-1] != "A" else "B")
    refused = run("certificates", "verify", str(series.source), changed, "--state", state)
    assert refused.exit_code == 1 and refused.output.startswith("not genuine")
    code_, err = main_exit(capsys, "certificates", "verify", str(series.source), "hello",
                           "--state", state)
    assert code_ == 2 and err.startswith("error: 'hello' is not a certificate code")
    as_json = json.loads(run("certificates", "verify", str(series.source), code, "--json",
                             "--state", state).output)
    assert as_json["genuine"] is True and as_json["series"] == "demo"


def test_a_code_is_bound_to_the_series_the_person_and_their_sessions():
    secret = SecretStr("s" * 43)
    code = certificate_code(secret, "demo", "r1", ["s1", "s2"])
    assert len(code) == 19 and code.count("-") == 3
    assert code == certificate_code(secret, "demo", "r1", ["s2", "s1"])
    assert code != certificate_code(secret, "demo", "r1", ["s1"])
    assert code != certificate_code(secret, "other", "r1", ["s1", "s2"])
    assert code != certificate_code(SecretStr("t" * 43), "demo", "r1", ["s1", "s2"])
    assert normalise_code(code.lower().replace("0", "o")) == code
    with pytest.raises(InputError):
        normalise_code("ABCD-EFGH")


def test_a_code_no_longer_verifies_once_the_person_is_erased(attended, tmp_path):
    from s3events.privacy import erase_person

    series, state = attended
    listed = json.loads(run("certificates", str(series.source), "-o", str(tmp_path / "c"),
                            "--json", "--state", state).output)
    code = next(c["code"] for c in listed if c["email"] == "kim@example.org")
    with open_store(state) as store:
        assert verify_certificate(store, series, code) is not None
        erase_person(store, series, "kim@example.org")
        assert verify_certificate(store, series, code) is None


def test_a_long_list_of_sessions_still_fits_on_one_page():
    from s3events.certificates.pdf import render_pdf

    lines = ["# Certificate of attendance", "## Zoë Ñúñez-Παπαδοπούλου", "### A series"]
    lines += [f"- Day {n}: a long title about smart specialisation and innovation policy "
              f"in Latin America — Thursday, October {n}, 2021, 10:00–12:30 (Lima time)"
              for n in range(1, 21)]
    lines += ["Organised by Someone", "~ Verification code: 7K3M-Q9XD-2PRA-WN4E"]
    import io

    reader = PdfReader(io.BytesIO(render_pdf("\n".join(lines), title="t", author="a",
                                             language="en")))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Zoë Ñúñez-Παπαδοπούλου" in text and "Day 20" in text and "7K3M" in text


def test_certificates_of_a_series_never_provisioned_are_signed_all_the_same(
        state_url, write_series, tmp_path):
    series = make_series(write_series)
    with open_store(state_url) as store:  # registrations imported, attendance imported
        for email, name, lang, zone in PEOPLE[:3]:
            add_person(store, series, email, name=name, language=lang, zone=zone)
        assert verify_certificate(store, series, "7K3M-Q9XD-2PRA-WN4E") is None
        import_attendance(store, series, FIXTURES / "zoom-participants.csv", session_id="s1",
                          now=datetime(2021, 10, 28, 18, tzinfo=UTC))
    done = run("certificates", str(series.source), "-o", str(tmp_path / "c"), "--json",
               "--state", state_url)
    assert done.exit_code == 0, done.output
    listed = json.loads(done.output)
    assert listed and all(run("certificates", "verify", str(series.source), c["code"],
                              "--state", state_url).exit_code == 0 for c in listed)


ARABIC, JAPANESE = "محمد العلي", "山田 太郎"


def _world_names(state_url, write_series, tmp_path, fonts=None):
    """Two sessions; José, and two people whose names DejaVu Serif cannot print."""
    series = make_series(write_series, **({"fonts": fonts} if fonts else {}))
    people = [("jose@example.org", "José Peña", "es", "America/Mexico_City"),
              ("mohammed@example.ae", ARABIC, "en", "Asia/Dubai"),
              ("taro@example.jp", JAPANESE, "en", "Asia/Tokyo")]
    joins = tmp_path / "joins.csv"
    joins.write_text("name,email,join_time,leave_time\n" + "".join(
        f"{name},{email},2021-10-28T15:00:00Z,2021-10-28T17:00:00Z\n"
        for email, name, _, _ in people), encoding="utf-8")
    with open_store(state_url) as store:
        provision(store, series)
        for email, name, lang, zone in people:
            add_person(store, series, email, name=name, language=lang, zone=zone)
        import_attendance(store, series, joins, session_id="s1",
                          now=datetime(2021, 10, 28, 18, tzinfo=UTC))
    return series


def test_missing_scripts_are_named_and_fonts_fill_them(tmp_path):
    from s3events.certificates.pdf import missing_scripts
    from tests.fixtures.fonts import make_font

    assert missing_scripts("José Peña — Ελένη — Дмитрий") == ()
    assert missing_scripts(f"{ARABIC} {JAPANESE}") == ("Arabic",
                                                      "CJK (Chinese, Japanese, Korean)")
    font = make_font(tmp_path / "letters.ttf", ARABIC + JAPANESE)
    assert missing_scripts(f"{ARABIC} {JAPANESE}", [font]) == ()


def test_a_name_no_font_can_print_is_refused_and_the_others_are_written(
        state_url, write_series, tmp_path, capsys):
    series = _world_names(state_url, write_series, tmp_path)
    out = tmp_path / "certificates"
    code, err = main_exit(capsys, "certificates", str(series.source), "-o", str(out),
                          "--json", "--state", state_url)
    assert code == 1
    assert "Arabic" in err and "CJK" in err and "`fonts`" in err and "Traceback" not in err
    assert ARABIC not in err and JAPANESE not in err  # scripts and addresses, not names
    (written,) = out.iterdir()
    assert written.name.startswith("jose-pena-") and "José Peña" in pdf_text(str(written))


def test_with_fonts_for_those_scripts_every_name_is_printed(state_url, write_series,
                                                            tmp_path):
    from tests.fixtures.fonts import make_font

    series = _world_names(state_url, write_series, tmp_path, fonts=["fonts/letters.ttf"])
    make_font(series.source.parent / "fonts" / "letters.ttf", ARABIC + JAPANESE)
    out = tmp_path / "certificates"
    done = run("certificates", str(series.source), "-o", str(out), "--json",
               "--state", state_url)
    assert done.exit_code == 0, done.output
    texts = {c["email"]: pdf_text(c["file"]) for c in json.loads(done.output)}
    assert len(texts) == 3
    assert "山田" in texts["taro@example.jp"] and "太郎" in texts["taro@example.jp"]
    assert set(ARABIC.replace(" ", "")) <= set(texts["mohammed@example.ae"])
    assert "José Peña" in texts["jose@example.org"]


def test_a_font_file_that_is_not_there_is_named(state_url, write_series, tmp_path, capsys):
    series = _world_names(state_url, write_series, tmp_path, fonts=["fonts/missing.ttf"])
    code, err = main_exit(capsys, "certificates", str(series.source), "-o",
                          str(tmp_path / "c"), "--state", state_url)
    assert code == 2 and "fonts.0: no font file at" in err and "missing.ttf" in err


@pytest.mark.parametrize(("name", "stem"), [("Jürgen Müßig", "jurgen-mussig-7K3M"),
                                            ("Søren Ærø", "soren-aero-7K3M"),
                                            (ARABIC, "certificate-7K3M-Q9XD")])
def test_file_names_spell_names_in_plain_letters(name, stem):
    from s3events.certificates import Certificate

    certificate = Certificate("r1", name, "x@example.org", "de", (), "7K3M-Q9XD-2PRA-WN4E",
                              b"")
    assert certificate.file_name() == f"{stem}.pdf"
