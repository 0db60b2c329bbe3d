#!/usr/bin/python3
"""gst-rtsp-server relaying the bench's RTP stream, the peer of the RTSP fan-out scenario.

    gst-rtsp-relay.py RTSP_PORT UDP_PORT SPROP [--path /bench] [--mode repay|passthrough]

Takes H.264 RTP (payload type 96) on udp://127.0.0.1:UDP_PORT and serves it on
rtsp://127.0.0.1:RTSP_PORT/PATH with one shared media for every client, as the gateway does:

- repay (default): udpsrc ! rtph264depay ! rtph264pay, i.e. frames rebuilt and packetized again,
  the same work the gateway does;
- passthrough: the RTP packets relayed as they are (udpsrc named pay0).

Prints "READY rtsp://127.0.0.1:PORT/PATH" once listening; exits on SIGTERM/SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("udp_port", type=int)
    parser.add_argument("sprop")
    parser.add_argument("--path", default="/bench")
    parser.add_argument("--mode", choices=["repay", "passthrough"], default="repay")
    args = parser.parse_args()

    Gst.init(None)
    caps = (
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96,"
        f'packetization-mode=(string)1,sprop-parameter-sets=(string)\\"{args.sprop}\\"'
    )
    src = f'udpsrc address=127.0.0.1 port={args.udp_port} buffer-size=4194304 caps="{caps}"'
    if args.mode == "repay":
        launch = f"( {src} ! rtph264depay ! rtph264pay name=pay0 pt=96 mtu=1212 config-interval=-1 )"
    else:
        launch = f"( {src} name=pay0 )"

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)  # the readers use TCP interleaved
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on port {args.port}", file=sys.stderr, flush=True)
        sys.exit(1)

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
    print(f"READY rtsp://127.0.0.1:{args.port}{args.path}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
