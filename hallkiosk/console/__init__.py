"""The hall console: a web back office over the hall's database (``kiosk console``).

Starlette + Jinja2 under uvicorn (see the README for why). Imports no Kivy and no drivers (an import-linter
contract); every page goes through the core's services. Build and serve::

    from hallkiosk.console.server import build, serve
    console = build(cfg)            # Console: directory, sessions, hall cabinets, change feed, audit job
    app = create_app(console)       # hallkiosk.console.app: the ASGI app
    serve(cfg, announce=print)      # uvicorn, HTTPS with console.tls_cert or 127.0.0.1 only
"""
