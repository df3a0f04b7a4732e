"""Who may use the web page: units' links and office users (docs/web.md, 登录与链接).

The rules live here and the rows in the history store (:mod:`ledger.store.access`); the
command line (``ledger links``, ``ledger users``) and the web page both call these functions.
"""
