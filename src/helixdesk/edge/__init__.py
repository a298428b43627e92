"""The edge: every HTTP route, the WebSocket, the pages, and the wiring (deps, app, container)."""
