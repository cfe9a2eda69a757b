"""A Python `websockets` peer: holds idle sockets (websockets pings every 20 s by default).

Usage: python ws_server.py PORT
"""

import asyncio
import http
import sys

from websockets.asyncio.server import serve


def health(connection, request):
    """Answers /healthz over plain HTTP so the harness can wait for the server."""
    if request.path == "/healthz":
        return connection.respond(http.HTTPStatus.OK, "ok\n")
    return None


async def hold(websocket):
    await websocket.wait_closed()


async def main(port):
    async with serve(hold, "127.0.0.1", port, process_request=health, compression=None):
        print(f"python websockets peer on {port}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
