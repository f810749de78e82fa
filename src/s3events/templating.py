"""The one factory of Jinja2 environments: messages, the event page, the web app and the agenda.

:func:`template_environment` builds the environment for one kind of template and one
language. Every environment has Jinja2's ``i18n`` extension with the language's gettext
catalog installed in the *newstyle* way, so templates write ``{{ _("Hello %(name)s,",
name=name) }}`` and ``{% trans %}`` blocks; in HTML the catalog's text and every value are
escaped. Every environment gets the ``paragraphs`` filter, then the plugins'
``s3events_prepare_jinja2_environment`` hook — once per environment, for all four kinds.

The kinds:

``messages``
    ``templates/messages``, preceded by the series' override folder; sandboxed (organisers
    write these); HTML (``*.html``) autoescaped, text not.
``site``
    ``templates/site``: the event page and the web app's pages; autoescaped.
``agenda``
    ``templates/agenda``: ``*.html.j2`` autoescaped, ``*.md.j2`` not.

Environments are cached per kind, catalog, override folder and plugin manager (and the
plugins registered in it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import jinja2
from babel.support import NullTranslations
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from .errors import InputError

__all__ = ["TEMPLATES_DIR", "Kind", "paragraphs", "phrases", "template_environment",
           "translate"]

Kind = Literal["messages", "site", "agenda"]
#: The packaged templates, one folder per kind.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_AUTOESCAPE = {
    "messages": jinja2.select_autoescape(enabled_extensions=("html",), default=False,
                                         default_for_string=False),
    "site": jinja2.select_autoescape(enabled_extensions=("html",), default=True),
    "agenda": jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
}


def translate(translations: NullTranslations, message: str, **values: Any) -> str:
    """``message`` from the catalog with ``%(name)s`` filled in, as templates do it."""
    return translations.gettext(message) % values


def phrases(translations: NullTranslations) -> Callable[..., str]:
    """``_(message, **values)`` for Python code, bound to one catalog.

    Python code names it ``_`` so that ``pybabel extract`` finds the phrases.
    """

    def _(message: str, **values: Any) -> str:
        return translate(translations, message, **values)

    return _


def paragraphs(text: str | None) -> list[str]:
    """Blank-line separated paragraphs of ``text``, each on one line."""
    return [" ".join(p.split()) for p in (text or "").split("\n\n") if p.strip()]


def _gettext_callables(translations: NullTranslations) -> dict[str, Any]:
    """gettext functions that escape the catalog's text where the template autoescapes."""

    def out(eval_ctx: jinja2.nodes.EvalContext, text: str) -> str:
        return escape(text) if eval_ctx.autoescape else text

    @jinja2.pass_eval_context
    def gettext(eval_ctx: jinja2.nodes.EvalContext, message: str) -> str:
        return out(eval_ctx, translations.gettext(message))

    @jinja2.pass_eval_context
    def ngettext(eval_ctx: jinja2.nodes.EvalContext, singular: str, plural: str,
                 n: int) -> str:
        return out(eval_ctx, translations.ngettext(singular, plural, n))

    @jinja2.pass_eval_context
    def pgettext(eval_ctx: jinja2.nodes.EvalContext, context: str, message: str) -> str:
        return out(eval_ctx, str(translations.pgettext(context, message)))

    @jinja2.pass_eval_context
    def npgettext(eval_ctx: jinja2.nodes.EvalContext, context: str, singular: str,
                  plural: str, n: int) -> str:
        return out(eval_ctx, str(translations.npgettext(context, singular, plural, n)))

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext,
            "npgettext": npgettext}


def _loader(kind: Kind, templates: Path | None) -> jinja2.BaseLoader:
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        if not templates.is_dir():
            raise InputError(f"dispatch.templates: folder {templates} does not exist")
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES_DIR / kind)))
    return loaders[0] if len(loaders) == 1 else jinja2.ChoiceLoader(loaders)


@functools.lru_cache(maxsize=128)
def _build(kind: Kind, translations: NullTranslations, templates: Path | None, pm: Any,
           _plugins: frozenset[int]) -> jinja2.Environment:
    cls = SandboxedEnvironment if kind == "messages" else jinja2.Environment
    env = cls(
        loader=_loader(kind, templates), autoescape=_AUTOESCAPE[kind],
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=kind != "site", extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(newstyle=True,  # type: ignore[attr-defined]
                                  **_gettext_callables(translations))
    env.filters["paragraphs"] = paragraphs
    if pm is not None:
        pm.hook.s3events_prepare_jinja2_environment(env=env)
    return env


def template_environment(kind: Kind, *, translations: NullTranslations,
                         templates: Path | None = None, pm: Any = None) -> jinja2.Environment:
    """The Jinja2 environment for ``kind`` templates in one language.

    ``translations`` is the language's catalog (:meth:`s3events.catalogs.Catalogs.
    translations`); ``templates`` a folder of message templates that replace packaged ones
    (``messages`` only); ``pm`` the plugin manager whose ``prepare_jinja2_environment``
    hook adjusts the environment (default: the installed plugins').
    """
    if kind not in _AUTOESCAPE:
        raise ValueError(f"kind must be messages, site or agenda, not {kind!r}")
    if pm is None:
        from .plugins import get_plugin_manager

        pm = get_plugin_manager()
    # The registered plugins are part of the key: one added later gets its hook called.
    # (By id, from the name list: a plugin object need not be hashable.)
    plugins = frozenset(id(plugin) for _, plugin in pm.list_name_plugin() if plugin is not None)
    return _build(kind, translations, templates, pm, plugins)

