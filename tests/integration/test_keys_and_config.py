"""Master key: created once with mode 0600, a wrong one fails loudly, rotation keeps data readable."""

from __future__ import annotations

import json
import stat

from trustdesk.crypto import generate_master_key

CSV = "external_id,name,email,phone,segment,jurisdiction\nc1,Ada,ada@example.com,,retail,GB\n"


def test_master_key_file_is_private(cli, settings):
    cli("config", "show")
    cli("customers", "list")
    mode = stat.S_IMODE((settings.data_dir / "master.key").stat().st_mode)
    assert mode == 0o600


def test_a_wrong_master_key_fails_at_startup_with_a_clear_message(cli, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CSV)
    assert cli("customers", "import", str(path)).exit_code == 0
    cli.env["TRUSTDESK_MASTER_KEY"] = generate_master_key()
    result = cli("customers", "show", "c1")
    assert result.exit_code == 8
    assert "master key does not match" in result.output


def test_rotation_rewraps_keys_and_data_stays_readable(cli, settings, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CSV)
    cli("customers", "import", str(path))
    old_key = (settings.data_dir / "master.key").read_text()
    result = cli("keys", "rotate-master")
    assert result.exit_code == 0 and "re-wrapped 1 data keys" in result.output
    assert (settings.data_dir / "master.key").read_text() != old_key
    assert json.loads(cli("customers", "show", "c1", "--json").stdout)["email"] == "ada@example.com"
    cli.env["TRUSTDESK_MASTER_KEY"] = old_key.strip()
    assert cli("customers", "show", "c1").exit_code == 8


def test_config_show_prints_effective_settings_with_secrets_masked(cli):
    cli.env["TRUSTDESK_MASTER_KEY"] = generate_master_key()
    result = cli("config", "show", "--json")
    view = json.loads(result.stdout)
    assert view["master_key"] == "********"
    assert cli.env["TRUSTDESK_MASTER_KEY"] not in result.stdout
    assert view["data_dir"] == cli.env["TRUSTDESK_DATA_DIR"]
