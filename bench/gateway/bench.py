"""Load for bench/gateway/run.sh: the same multipart edits against the
emulator directly and through each proxy; latency, CPU and memory of each."""

import argparse
import asyncio
import io
import statistics
import struct
import time
import zlib

import httpx
import psutil


def png(width, height, rgba):
    """A PNG of one colour (no Pillow needed)."""
    raw = b"".join(b"\x00" + bytes(rgba) * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def tree(pid):
    process = psutil.Process(pid)
    return [process] + process.children(recursive=True)


def cpu_seconds(pid):
    total = 0.0
    for p in tree(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def rss(pid):
    total = 0
    for p in tree(pid):
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


async def run(base, key, files, edits, concurrency, pid=None):
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies = []
    peak = [0]
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:

        async def one():
            started = time.perf_counter()
            answer = await client.post(
                "/v1/images/edits",
                files={"image": ("image.png", files[0], "image/png"), "mask": ("mask.png", files[1], "image/png")},
                data={"model": "dall-e-2", "prompt": "a red door", "size": "256x256", "response_format": "b64_json"},
            )
            elapsed = time.perf_counter() - started
            if answer.status_code != 200:
                raise SystemExit(f"{base}: HTTP {answer.status_code}: {answer.text[:300]}")
            assert answer.json()["data"][0]["b64_json"]
            return elapsed

        for _ in range(10):  # warm-up: connections, caches, lazy imports
            await one()
        semaphore = asyncio.Semaphore(concurrency)

        async def bounded():
            async with semaphore:
                latencies.append(await one())
                if pid and len(latencies) % 20 == 0:
                    peak[0] = max(peak[0], rss(pid))

        cpu_before = cpu_seconds(pid) if pid else 0.0
        wall = time.perf_counter()
        await asyncio.gather(*(bounded() for _ in range(edits)))
        wall = time.perf_counter() - wall
        cpu = (cpu_seconds(pid) - cpu_before) if pid else 0.0
        if pid:
            peak[0] = max(peak[0], rss(pid))
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return {"p50": p(0.50), "p99": p(0.99), "wall": wall, "cpu_per_edit": cpu / edits, "peak_rss": peak[0]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edits", type=int, default=300)
    parser.add_argument("--direct", required=True)
    parser.add_argument("--target", action="append", required=True, help="NAME=URL=KEY=PID")
    parser.add_argument("--image", required=True)
    parser.add_argument("--mask", required=True)
    args = parser.parse_args()
    image = png(256, 256, (90, 120, 200, 255))
    mask = png(256, 256, (0, 0, 0, 0))
    open(args.image, "wb").write(image)
    open(args.mask, "wb").write(mask)
    targets = [t.split("=") for t in args.target]
    print(f"{args.edits} dall-e-2 edits (256x256, b64_json) per row, emulator answers reused\n")
    print("| proxy | concurrency | p50 added (ms) | p99 added (ms) | CPU per edit (ms) | peak RSS (MiB) | wall (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for concurrency in (1, 64):
        direct = asyncio.run(run(args.direct, "sk-emulator", (image, mask), args.edits, concurrency))
        print(f"| (emulator directly) | {concurrency} | p50 {direct['p50']*1e3:.2f} | p99 {direct['p99']*1e3:.2f} | | | {direct['wall']:.2f} |")
        for name, url, key, pid in targets:
            r = asyncio.run(run(url, key, (image, mask), args.edits, concurrency, int(pid)))
            print(
                f"| {name} | {concurrency} | {(r['p50'] - direct['p50'])*1e3:.2f} | {(r['p99'] - direct['p99'])*1e3:.2f} "
                f"| {r['cpu_per_edit']*1e3:.2f} | {r['peak_rss']/2**20:.0f} | {r['wall']:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
