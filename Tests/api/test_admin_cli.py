"""The administrator's tools (docs/sessions.md): `passwd` makes a bcrypt hash, `init-config` writes
a starter configuration (and never overwrites one), `check-config` names every problem by its field
path, and `serve --config` runs on what init-config wrote."""
import json
import re
import subprocess

import requests

from conftest import BINARY, Server

PASSWORD = "correct horse battery"


def run_cli(*arguments, stdin=None):
    return subprocess.run([BINARY, *arguments], input=stdin, capture_output=True, text=True, timeout=120)


class ConfiguredServer(Server):
    """`serve --config FILE` (no demo, no telephony) on a free port, stopped like the demo's."""

    def __init__(self, config, database, log):
        self.database = database
        with open(log, "w") as errors:
            self.process = subprocess.Popen(
                [BINARY, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", "0",
                 "--database", str(database), "--drain-seconds", "0"],
                stdout=subprocess.PIPE, stderr=errors, text=True)
        self.url = None
        for line in self.process.stdout:
            match = re.search(r"running: (http://127\.0\.0\.1:\d+)/", line)
            if match:
                self.url = match.group(1)
                break
        else:
            with open(log) as errors:
                raise RuntimeError(f"the server stopped before listening: {errors.read()}")


def starter(tmp_path, name="switchboard.json"):
    """A fresh configuration written by init-config; returns its path."""
    path = tmp_path / name
    made = run_cli("init-config", str(path))
    assert made.returncode == 0, made.stdout + made.stderr
    return path


def check(path):
    return run_cli("check-config", str(path))


def broken_copy(tmp_path, original, name, change):
    configuration = json.loads(original.read_text())
    change(configuration)
    path = tmp_path / name
    path.write_text(json.dumps(configuration, indent=2))
    return path


def test_passwd_prints_a_bcrypt_hash_of_the_password_read_from_standard_input():
    made = run_cli("passwd", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    assert lines and re.fullmatch(r"\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}", lines[-1]), made.stdout
    assert PASSWORD not in made.stdout + made.stderr


def test_init_config_writes_a_configuration_that_check_config_finds_valid(tmp_path):
    path = starter(tmp_path)
    configuration = json.loads(path.read_text())
    assert configuration["agents"] and configuration["queues"] and configuration["idleCodes"], configuration
    checked = check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "is valid" in checked.stdout, checked.stdout


def test_init_config_refuses_to_overwrite_a_file(tmp_path):
    path = starter(tmp_path)
    before = path.read_bytes()
    again = run_cli("init-config", str(path))
    assert again.returncode != 0, again.stdout
    assert path.read_bytes() == before
    other = tmp_path / "mine.json"
    other.write_text("not a configuration, but mine")
    assert run_cli("init-config", str(other)).returncode != 0
    assert other.read_text() == "not a configuration, but mine"


def test_check_config_names_each_problem_by_its_field_path(tmp_path):
    original = starter(tmp_path)

    def spoil(configuration):
        configuration["agents"][1]["passwordHash"] = "switchboard"  # a password, not a bcrypt hash
        configuration["supervisors"][0]["passwordHash"] = "md5:0123"
        configuration["desktopProfile"]["defaultWrapUpCode"] = "no-such-code"
        # Red above amber: the tile would skip amber.
        configuration["reports"]["tiles"] = {"serviceLevelAmber": 0.5, "serviceLevelRed": 0.7}
        configuration["reports"]["abandons"] = "sometimes"

    checked = check(broken_copy(tmp_path, original, "broken.json", spoil))
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    for field in (r"agents\[1\]\.passwordHash", r"supervisors\[0\]\.passwordHash", r"defaultWrapUpCode", r"reports\.tiles",
                  r"reports\.abandons"):
        assert re.search(field + r"\b", output), (field, output)
    assert "is valid" not in output


def test_check_config_warns_of_an_agents_team_that_no_queue_serves_without_failing(tmp_path):
    """A team no queue serves is allowed (experts reached only by consult or transfer), so the file
    is valid (exit 0), but the line names the field, in case it is a typo."""
    original = starter(tmp_path)
    spoiled = broken_copy(tmp_path, original, "team.json", lambda c: c["agents"][0].update(team="no-such-team"))
    checked = check(spoiled)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    assert re.search(r"warning: agents\[0\]\.team: 'no-such-team' serves no queue", output), output


def test_check_config_names_a_missing_field_by_its_path(tmp_path):
    original = starter(tmp_path)
    checked = check(broken_copy(tmp_path, original, "missing.json", lambda c: c["agents"][0].pop("displayName")))
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    assert "agents[0].displayName" in output, output


def test_check_config_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "nonsense.json"
    path.write_text("{ agents: ")
    checked = check(path)
    assert checked.returncode == 1, checked.stdout + checked.stderr


def test_serve_runs_on_the_init_config_file_and_a_passwd_hash_signs_its_user_in(tmp_path):
    path = starter(tmp_path)
    configuration = json.loads(path.read_text())
    hashed = run_cli("passwd", stdin=PASSWORD + "\n").stdout.strip().splitlines()[-1]
    configuration["agents"][0]["passwordHash"] = hashed
    path.write_text(json.dumps(configuration, indent=2))
    assert check(path).returncode == 0
    user = configuration["agents"][0]["id"]
    server = ConfiguredServer(path, tmp_path / "switchboard.sqlite", tmp_path / "server.log")
    try:
        assert requests.get(f"{server.url}/health").json()["status"] == "ok"
        signed_in = requests.post(f"{server.url}/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert signed_in.status_code == 200 and signed_in.json()["agentId"] == user, signed_in.text
        wrong = requests.post(f"{server.url}/v1/auth/login", json={"username": user, "password": "switchboard"})
        assert wrong.status_code == 401
    finally:
        server.stop()
