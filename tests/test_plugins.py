"""The plugin system: discovery through entry points, built-ins, and errors naming the plugin.

Plugin distributions are made on the fly: a ``*.dist-info`` folder with ``entry_points.txt``
and a module, in a folder put on ``sys.path`` (where :mod:`importlib.metadata` finds them).
"""

from __future__ import annotations

import inspect
import json
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from s3events import hookspecs
from s3events.cli import main
from s3events.errors import ConfigurationError, PluginError
from s3events.plugins import (
    BUILTIN_PLUGINS,
    build_plugin_manager,
    platform_class,
    platforms,
    plugin_infos,
    reset_plugin_manager,
    transports,
)

ADAPTER = textwrap.dedent('''
    from s3events.hookspecs import hookimpl
    from s3events.platforms.base import Meeting, PlatformAdapter


    class {cls}(PlatformAdapter):
        name = "{platform}"

        def create_meeting(self, request):
            return Meeting(platform=self.name, meeting_id="1", join_url="https://x.example/1")

        def update_meeting(self, meeting, request):
            return meeting

        def delete_meeting(self, meeting):
            pass

        def get_meeting(self, meeting_id):
            return None


    @hookimpl
    def s3events_register_platforms():
        return [{cls}]
''')

MakeDist = Callable[..., str]


@pytest.fixture
def make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeDist]:
    """``make_dist(dist, entry_point, source)``: install a plugin distribution for this test.

    Returns the module name. The folder is on ``sys.path`` only during the test.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def make(dist: str, entry_point: str, source: str, version: str = "1.2.3") -> str:
        module = f"s3e_test_{entry_point.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[s3events]\n{entry_point} = {module}\n")
        (site / f"{module}.py").write_text(source)
        modules.append(module)
        return module

    yield make
    for module in modules:
        sys.modules.pop(module, None)


@pytest.fixture
def fresh_global_manager() -> Iterator[None]:
    """Rebuild the process-wide plugin manager before and after the test."""
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def test_builtin_platforms_register_through_the_hooks() -> None:
    pm = build_plugin_manager(entry_points=False)
    assert set(platforms(pm)) == {"jitsi", "static"}
    for name in BUILTIN_PLUGINS:
        assert pm.get_plugin(name) is not None


def test_installed_plugin_is_found_through_its_entry_point(make_dist: MakeDist) -> None:
    make_dist("s3events-inhouse", "inhouse", ADAPTER.format(cls="InHouse", platform="inhouse"))
    pm = build_plugin_manager()
    assert platform_class("inhouse", pm).__name__ == "InHouse"
    info = next(i for i in plugin_infos(pm) if i.name == "inhouse")
    assert info.as_dict() == {
        "name": "inhouse", "version": "1.2.3", "distribution": "s3events-inhouse",
        "builtin": False, "platforms": ["inhouse"], "transports": [],
        "hooks": ["s3events_register_platforms"],
    }


def test_plugin_that_fails_to_import_is_named_in_the_error(make_dist: MakeDist) -> None:
    module = make_dist("s3events-broken", "broken",
                       "raise ImportError('needs libfoo 2, found libfoo 1')\n")
    with pytest.raises(PluginError) as caught:
        build_plugin_manager()
    message = str(caught.value)
    assert caught.value.plugin == "broken"
    assert "plugin 'broken' (distribution s3events-broken" in message
    assert module in message
    assert "ImportError: needs libfoo 2, found libfoo 1" in message
    assert "S3EVENTS_DISABLE_PLUGINS=broken" in message


def test_disabled_plugin_is_not_loaded(make_dist: MakeDist) -> None:
    make_dist("s3events-broken", "broken", "raise ImportError('broken on purpose')\n")
    pm = build_plugin_manager(environ={"S3EVENTS_DISABLE_PLUGINS": "other, broken"})
    assert pm.get_plugin("broken") is None
    assert "jitsi" in platforms(pm)


def test_plugin_registering_a_platform_name_already_taken_is_named(make_dist: MakeDist) -> None:
    make_dist("s3events-myjitsi", "myjitsi", ADAPTER.format(cls="MyJitsi", platform="jitsi"))
    pm = build_plugin_manager()
    with pytest.raises(PluginError) as caught:
        platforms(pm)
    assert caught.value.plugin == "myjitsi"
    assert str(caught.value) == (
        "platform 'jitsi' is registered by two plugins: 's3events.platforms.jitsi' and "
        "'myjitsi'. Uninstall one of them.")
    with pytest.raises(PluginError, match="myjitsi"):
        plugin_infos(pm)


def test_two_distributions_claiming_one_plugin_name_are_named(make_dist: MakeDist) -> None:
    make_dist("s3events-video-a", "video", ADAPTER.format(cls="A", platform="video-a"))
    make_dist("s3events-video-b", "video", ADAPTER.format(cls="B", platform="video-b"))
    with pytest.raises(PluginError) as caught:
        build_plugin_manager()
    message = str(caught.value)
    assert message.startswith("plugin 'video' is provided by two distributions: ")
    assert "s3events-video-a" in message and "s3events-video-b" in message


def test_plugin_registering_something_that_is_not_an_adapter_is_named(
    make_dist: MakeDist,
) -> None:
    source = ("from s3events.hookspecs import hookimpl\n\n"
              "@hookimpl\ndef s3events_register_platforms():\n    return [dict]\n")
    make_dist("s3events-odd", "odd", source)
    with pytest.raises(PluginError, match=r"plugin 'odd' registers <class 'dict'> as a "
                                          r"platform, but it is not a subclass"):
        platforms(build_plugin_manager())


def test_plugin_with_a_badly_named_platform_is_named(make_dist: MakeDist) -> None:
    make_dist("s3events-caps", "caps", ADAPTER.format(cls="Caps", platform="My Video"))
    with pytest.raises(PluginError, match=r"plugin 'caps' registers the platform class Caps "
                                          r"with name 'My Video'"):
        platforms(build_plugin_manager())


def test_plugin_whose_hook_raises_is_named(make_dist: MakeDist) -> None:
    source = ("from s3events.hookspecs import hookimpl\n\n"
              "@hookimpl\ndef s3events_register_transports():\n"
              "    raise KeyError('no config')\n")
    make_dist("s3events-faulty", "faulty", source)
    with pytest.raises(PluginError, match=r"plugin 'faulty' failed in "
                                          r"s3events_register_transports: KeyError"):
        transports(build_plugin_manager())


def test_plugin_with_an_unknown_hook_is_named(make_dist: MakeDist) -> None:
    source = ("from s3events.hookspecs import hookimpl\n\n"
              "@hookimpl\ndef s3events_register_platform():\n    return []\n")
    make_dist("s3events-typo", "typo", source)
    with pytest.raises(PluginError) as caught:
        build_plugin_manager()
    assert str(caught.value).startswith(
        "plugin 'typo' (distribution s3events-typo) implements 's3events_register_platform', "
        "which is not an s3events hook; the hooks are: s3events_extra_template_vars, ")


def test_unknown_platform_says_which_are_installed_and_how_to_get_it() -> None:
    pm = build_plugin_manager(entry_points=False)
    with pytest.raises(ConfigurationError) as caught:
        platform_class("zoom", pm)
    assert str(caught.value) == ("unknown platform 'zoom'; installed: jitsi, static. "
                                 "Install it with: pip install s3events-zoom.")


def test_every_hook_is_typed_and_documented() -> None:
    hooks = [f for name, f in vars(hookspecs).items() if name.startswith("s3events_")]
    assert len(hooks) == 7
    for hook in hooks:
        assert inspect.getdoc(hook), hook.__name__
        signature = inspect.signature(hook)
        assert signature.return_annotation is not inspect.Signature.empty, hook.__name__
        for param in signature.parameters.values():
            assert param.annotation is not inspect.Parameter.empty, (hook.__name__, param)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.mark.usefixtures("fresh_global_manager")
def test_plugins_command_lists_plugins_with_versions_platforms_and_transports(
    make_dist: MakeDist, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dist("s3events-inhouse", "inhouse", ADAPTER.format(cls="InHouse", platform="inhouse"),
              version="4.5.6")
    code, out, _ = run(["plugins"], capsys)
    assert code == 0
    line = next(line for line in out.splitlines() if " inhouse " in line)
    assert "4.5.6" in line and "s3events-inhouse" in line
    assert "s3events.platforms.jitsi" in out
    code, out, _ = run(["plugins", "--json"], capsys)
    listed = json.loads(out)
    assert isinstance(listed, list)
    assert {"name", "version", "distribution", "platforms", "transports"} <= set(listed[0])
    inhouse = next(p for p in listed if p["name"] == "inhouse")
    assert (inhouse["version"], inhouse["platforms"]) == ("4.5.6", ["inhouse"])
    assert ["jitsi"] in [p["platforms"] for p in listed if p["builtin"]]


@pytest.mark.usefixtures("fresh_global_manager")
def test_plugins_command_names_a_broken_plugin_without_a_traceback(
    make_dist: MakeDist, capsys: pytest.CaptureFixture[str]
) -> None:
    make_dist("s3events-broken", "broken", "import not_installed_anywhere\n")
    code, out, err = run(["plugins"], capsys)
    assert code == 1
    assert err.startswith("error: plugin 'broken' (distribution s3events-broken")
    assert "Traceback" not in err + out
