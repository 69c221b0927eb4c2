"""The TOML configuration: the example parses, every mistake is one sentence naming the file, the
key and what was expected, ``IVMON_*`` overrides, and the CLI stopping cleanly on a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

import monitor.cli_station
from monitor import cli
from monitor.config import DEFAULT_DATA_DIR, DEFAULT_PORT, Config, apply_env, load, parse
from monitor.errors import ConfigError, IvmonError

EXAMPLE = Path(monitor.cli_station.__file__).with_name("example_config.toml")


def write(tmp_path: Path, text: str, name: str = "ivmon.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(path, env={} if env is None else env)
    return info.value


# -- the example and the defaults ------------------------------------------------------------


def test_the_example_config_parses() -> None:
    config = load(EXAMPLE, env={})
    assert config.source == str(EXAMPLE)
    assert config.station_name == "Infusion clinic"
    assert (config.host, config.port) == ("127.0.0.1", 8050)
    assert config.alarm_profile == "iv-ketamine"
    assert config.silence_seconds == 10.0
    assert [r.id for r in config.rooms] == ["r1", "r2", "r3", "r4"]
    protocols = [r.device.protocol for r in config.rooms if r.device]
    assert protocols == ["datex", "intellivue", "ascii", "sim"]
    r3 = config.rooms[2].device
    assert r3 is not None and r3.options["baudrate"] == 9600
    assert config.rooms[3].device.port.startswith("sim://ketamine?")  # type: ignore[union-attr]
    # A device without an id is named after its room.
    assert config.rooms[0].device.id == "r1-monitor"  # type: ignore[union-attr]
    # The example's relative data folder sits next to the example file.
    assert config.data_dir == (EXAMPLE.parent / "ivmon-data").resolve()


def test_defaults_without_a_file() -> None:
    config = load(None, env={})
    assert config == Config()
    assert config.port == DEFAULT_PORT == 8050
    assert config.data_dir == DEFAULT_DATA_DIR
    assert config.rooms == ()
    assert config.database_url == f"sqlite:///{DEFAULT_DATA_DIR / 'ivmon.db'}"


# Until the defaults bug below is fixed, files in the other tests spell these keys out so
# each test checks what it is about.
STATION = '[station]\nname = "Infusion clinic"\n'
SERVER = '[server]\nhost = "127.0.0.1"\n'
ALARMS = '[alarms]\nprofile = "iv-ketamine"\nsilence_seconds = 10\n'
KEYS = STATION + SERVER + ALARMS


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty-file"),
    pytest.param(SERVER + ALARMS, id="no-station-name"),
    pytest.param(STATION + '[server]\nport = 8051\n' + ALARMS, id="no-host"),
    pytest.param(STATION + SERVER + '[alarms]\nsilence_seconds = 10\n', id="no-profile"),
    pytest.param(STATION + SERVER + '[alarms]\nprofile = "iv-ketamine"\n', id="no-silence"),
])
def test_a_file_that_omits_optional_keys_gets_the_defaults(tmp_path: Path, text: str) -> None:
    config = load(write(tmp_path, text), env={})
    assert config.station_name == "Infusion clinic"
    assert config.host == "127.0.0.1"
    assert config.alarm_profile == "iv-ketamine"
    assert config.silence_seconds == 10.0
    assert config.port in (DEFAULT_PORT, 8051) and config.rooms == ()


def test_a_file_with_only_its_keys_spelt_out_gets_the_other_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, KEYS), env={})
    assert config.port == DEFAULT_PORT and config.rooms == ()
    assert config.data_dir == DEFAULT_DATA_DIR and config.storage_url == ""


def test_a_storage_url_replaces_the_sqlite_file(tmp_path: Path) -> None:
    text = KEYS + '[storage]\nurl = "postgresql+psycopg://db/ivmon"\n'
    config = load(write(tmp_path, text), env={})
    assert config.database_url == "postgresql+psycopg://db/ivmon"


def test_a_room_name_defaults_to_its_id(tmp_path: Path) -> None:
    config = load(write(tmp_path, KEYS + '[[rooms]]\nid = "bay-2"\n'), env={})
    assert config.rooms[0].name == "bay-2" and config.rooms[0].device is None


def test_a_relative_data_dir_is_relative_to_the_config_file(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write(folder, KEYS + '[storage]\ndata_dir = "data"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load(path, env={})
    assert config.data_dir == (folder / "data").resolve()
    assert config.database_url == f"sqlite:///{folder.resolve() / 'data' / 'ivmon.db'}"


def test_an_absolute_data_dir_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, KEYS + f'[storage]\ndata_dir = "{tmp_path / "abs"}"\n')
    assert load(path, env={}).data_dir == tmp_path / "abs"


# -- every kind of mistake -------------------------------------------------------------------


ROOM = '[[rooms]]\nid = "r1"\n'


@pytest.mark.parametrize(("text", "key", "expected"), [
    pytest.param('[stations]\nname = "x"\n', "stations", "one of the known keys (station, "
                 "storage, server, alarms, security, rooms)", id="unknown-top-level-key"),
    pytest.param('[server]\nhots = "0.0.0.0"\n', "server.hots", "one of the known keys "
                 "(host, port)", id="unknown-server-key"),
    pytest.param(ROOM + '[rooms.devcie]\nprotocol = "sim"\n', "rooms[0].devcie",
                 "one of the known keys (id, name, device)", id="unknown-room-key"),
    pytest.param(ROOM + '[rooms.device]\nprotocol = "sim"\nport = "sim://"\nbaud = 9600\n',
                 "rooms[0].device.baud", "one of the known keys", id="unknown-device-key"),
    pytest.param('[server]\nport = "eighty"\n', "server.port",
                 "a whole number from 1 to 65535, found 'eighty'", id="text-for-number"),
    pytest.param('[server]\nport = true\n', "server.port",
                 "a whole number from 1 to 65535, found True", id="bool-for-port"),
    pytest.param('[alarms]\nsilence_seconds = false\n', "alarms.silence_seconds",
                 "a number of seconds, found False", id="bool-for-seconds"),
    pytest.param('[server]\nport = 70000\n', "server.port",
                 "a whole number from 1 to 65535, found 70000", id="port-out-of-range"),
    pytest.param('[server]\nport = 80.5\n', "server.port", "a whole number",
                 id="float-for-port"),
    pytest.param('server = "localhost"\n', "server", "a table", id="value-for-table"),
    pytest.param('[rooms]\nid = "r1"\n', "rooms", "a list of [[rooms]] tables",
                 id="table-for-room-list"),
    pytest.param('[[rooms]]\nname = "Room 1"\n', "rooms[0].id", "(it is missing)",
                 id="missing-room-id"),
    pytest.param('[[rooms]]\nid = 1\n', "rooms[0].id", "a short id such as r1, found 1",
                 id="number-for-room-id"),
    pytest.param('[[rooms]]\nid = "room 1"\n', "rooms[0].id", "letters, digits, - or _ only",
                 id="space-in-room-id"),
    pytest.param(ROOM + ROOM, "rooms[1].id", "unique among rooms, found 'r1'",
                 id="duplicate-room-id"),
    pytest.param(ROOM + '[rooms.device]\nprotocol = "datex"\n', "rooms[0].device.port",
                 "a port URL such as /dev/ttyUSB0 or socket://host:4001 (it is missing)",
                 id="missing-device-port"),
    pytest.param(ROOM + '[rooms.device]\nport = "/dev/ttyUSB0"\n', "rooms[0].device.protocol",
                 "(it is missing)", id="missing-device-protocol"),
    pytest.param(ROOM + 'device = "datex"\n', "rooms[0].device",
                 "a table with protocol and port", id="text-for-device"),
    pytest.param(ROOM + '[rooms.device]\nprotocol = "sim"\nport = 4001\n',
                 "rooms[0].device.port", "a port URL", id="number-for-port-url"),
])
def test_a_mistake_names_the_file_the_key_and_what_was_expected(
        tmp_path: Path, text: str, key: str, expected: str) -> None:
    path = write(tmp_path, text)
    error = config_error(path)
    assert error.source == str(path)
    assert error.key == key
    message = str(error)
    assert message.startswith(f"{path}: '{key}' must be ")
    assert expected in message
    assert "\n" not in message
    assert isinstance(error, IvmonError)


def test_bad_toml_syntax_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = = 8050\n')
    error = config_error(path)
    assert error.key == "file"
    assert str(error).startswith(f"{path}: 'file' must be valid TOML (")
    assert "line 2" in str(error)
    assert isinstance(error.__cause__, Exception)  # the developer still has the chain


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    error = config_error(path)
    assert str(error) == (f"{path}: 'file' must be an existing file "
                          f"(run 'ivmon init' to write one).")


def test_a_folder_instead_of_a_file_is_a_config_error(tmp_path: Path) -> None:
    error = config_error(tmp_path)
    assert error.key == "file" and "a readable file" in str(error)


def test_parse_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"^here: 'server\.port' must be"):
        parse({"server": {"port": "x"}}, source="here")


# -- IVMON_* environment variables ---------------------------------------------------------


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, STATION + ALARMS + '[server]\nport = 8050\nhost = "127.0.0.1"\n')
    config = load(path, env={"IVMON_PORT": "9000", "IVMON_HOST": "0.0.0.0",
                             "IVMON_DATA_DIR": str(tmp_path / "d"),
                             "IVMON_STORAGE_URL": "sqlite:///x.db",
                             "IVMON_ALARM_PROFILE": "iv-ketamine",
                             "IVMON_STATION_NAME": "North clinic"})
    assert config.port == 9000 and isinstance(config.port, int)
    assert config.host == "0.0.0.0"
    assert config.data_dir == tmp_path / "d"
    assert config.storage_url == "sqlite:///x.db"
    assert config.station_name == "North clinic"


def test_an_empty_variable_is_ignored() -> None:
    assert apply_env(Config(), {"IVMON_PORT": ""}).port == DEFAULT_PORT


def test_a_data_dir_variable_expands_the_home_folder() -> None:
    config = apply_env(Config(), {"IVMON_DATA_DIR": "~/ivmon-data"})
    assert config.data_dir == Path("~/ivmon-data").expanduser()


def test_a_bad_number_in_a_variable_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        apply_env(Config(), {"IVMON_PORT": "eighty"})
    assert str(info.value) == ("environment variable IVMON_PORT: 'IVMON_PORT' must be a whole "
                               "number, found 'eighty'.")


@pytest.mark.parametrize("port", ["70000", "0"])
def test_a_port_variable_out_of_range_is_refused(port: str) -> None:
    with pytest.raises(ConfigError, match=r"IVMON_PORT.*1 to 65535"):
        apply_env(Config(), {"IVMON_PORT": port})


def test_a_misspelt_variable_is_caught_and_the_real_names_listed() -> None:
    with pytest.raises(ConfigError) as info:
        apply_env(Config(), {"IVMON_DATADIR": "/srv/ivmon"})
    assert info.value.key == "IVMON_DATADIR"
    assert "IVMON_DATA_DIR" in str(info.value)


def test_variables_of_other_parts_of_ivmon_are_not_typos() -> None:
    env = {"IVMON_REQUIRE_SERVICES": "1", "IVMON_CONFIG": "x.toml",
           "IVMON_TEST_DATABASE_URL": "postgresql://", "PATH": "/bin"}
    assert apply_env(Config(), env) == Config()


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def no_station(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record any attempt to build a station or devices: a bad config must stop before."""
    started: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        started.append(args)
        raise AssertionError("the station was started despite a bad configuration")

    monkeypatch.setattr(monitor.cli_station, "Station", refuse)
    monkeypatch.setattr(monitor.cli_station, "run_station", refuse)
    for var in ("IVMON_CONFIG", "IVMON_PORT", "IVMON_DATA_DIR", "IVMON_STORAGE_URL"):
        monkeypatch.delenv(var, raising=False)
    return started


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("text", [
    '[server]\nport = "eighty"\n',
    '[[rooms]]\nid = "r1"\n[rooms.devcie]\nprotocol = "sim"\n',
    "[server\n",
])
def test_serve_with_a_bad_file_prints_one_line_and_returns_2(
        tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str],
        no_station: list[object]) -> None:
    path = write(tmp_path, text)
    code, err = run_cli(["serve", "--config", str(path)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ivmon: ")
    assert str(path) in lines[0]
    assert "Traceback" not in err
    assert no_station == []


def test_serve_with_a_missing_file_prints_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   no_station: list[object]) -> None:
    code, err = run_cli(["serve", "--config", str(tmp_path / "missing.toml")], capsys)
    assert code == 2
    assert err == (f"ivmon: {tmp_path / 'missing.toml'}: 'file' must be an existing file "
                   f"(run 'ivmon init' to write one).\n")


def test_serve_with_an_unknown_protocol_stops_before_starting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], no_station: list[object]) -> None:
    path = write(tmp_path, KEYS + ROOM + '[rooms.device]\nprotocol = "datx"\n'
                 'port = "/dev/null"\n')
    code, err = run_cli(["serve", "--config", str(path)], capsys)
    assert code == 2
    assert err.startswith(f"ivmon: {path}: 'rooms[0].device.protocol' must be ")
    assert "datex" in err and len(err.strip().splitlines()) == 1


def test_serve_with_an_unknown_alarm_profile_creates_no_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The real Station this time: it must refuse the profile before opening the database.
    monkeypatch.delenv("IVMON_DATA_DIR", raising=False)
    monkeypatch.delenv("IVMON_STORAGE_URL", raising=False)
    monkeypatch.setattr(monitor.cli_station, "run_station",
                        lambda *a, **k: pytest.fail("the station was run"))
    path = write(tmp_path, STATION + SERVER + '[storage]\ndata_dir = "data"\n'
                 '[alarms]\nprofile = "ketamine"\nsilence_seconds = 10\n')
    code, err = run_cli(["serve", "--config", str(path)], capsys)
    assert code == 2
    assert err.startswith(f"ivmon: {path}: 'alarms.profile' must be ")
    assert "iv-ketamine" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "data").exists()


def test_serve_with_a_port_option_out_of_range(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               no_station: list[object]) -> None:
    path = write(tmp_path, KEYS)
    code, err = run_cli(["serve", "--config", str(path), "--port", "99999"], capsys)
    assert code == 2
    assert err.startswith("ivmon: command line: '--port' must be a whole number from 1 to 65535")


def test_init_writes_the_example_and_refuses_to_overwrite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ivmon.toml"
    assert cli.main(["init", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == EXAMPLE.read_text(encoding="utf-8")
    capsys.readouterr()
    code, err = run_cli(["init", "--out", str(out)], capsys)
    assert code == 2
    assert err.startswith(f"ivmon: {out}: 'file' must be a new file (it exists; use --force)")
