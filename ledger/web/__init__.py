"""The office's web page (``ledger serve``): the cycle's stages behind a browser page.

A Starlette app whose pages are rendered on the server from jinja2 templates
(``ledger/web/templates/``, autoescaped; a workspace's ``templates/web/`` overrides them)
with one small script of its own for uploads (``ledger/web/static/``): no CDN, no build
step. Every action calls the same library function as the command line does, through a
:class:`~ledger.run.Run`; the web layer parses the request, calls, and renders, and holds
no rule of its own (docs/web.md). Office pages live under ``/p/<programme>/``; ``/u/`` is
kept for pages the units themselves will open.
"""
