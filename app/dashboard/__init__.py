"""The live dashboard (provided): ``http://127.0.0.1:<web port>/dashboard/`` on every worker.

- ``internals``: the one place that reads Faust's private state (committed offsets).
- ``recorder``: what the worker records as it runs (window history, throughput, stubs hit).
- ``snapshot``: the JSON of ``/dashboard/data.json``, built from plain mappings.
- ``pages``: the pages on the worker's own web server; ``app.main`` imports it.
- ``static/``: the page itself, plain HTML, CSS and JavaScript with SVG charts (no library, no
  build step, no request outside the worker).
"""
