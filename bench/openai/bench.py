#!/usr/bin/env python3
"""openai-python's side of bench/openai/run.sh, and the report.

The edit commands do what crates/msgflux-openai/examples/openai_bench_client.rs
does, written the way a Python user of the official SDK would write them,
against the same emulator (which sets OPENAI_BASE_URL and OPENAI_API_KEY):

    bench.py sequential EDITS IMAGE MASK              OpenAI(), one edit after another (after one warm-up edit)
    bench.py batch EDITS CONCURRENCY IMAGE MASK       AsyncOpenAI() + asyncio.Semaphore + gather
    bench.py files EDITS IMAGE MASK OUT               like sequential, and each result saved to OUT/<i>.png
                                                      (bench/openai/batch.sh: against `msgflux batch`)
    bench.py fault READ_TIMEOUT_S IMAGE MASK [MAX_RETRIES]
                                                      one edit, OpenAI(timeout=...), default retries unless given
    bench.py report RESULTS.jsonl                     the table of a run

Each edit opens the image and the mask, calls images.edit (dall-e-2,
response_format b64_json) and base64-decodes the result. The edit commands
print one JSON line. CPU time is resource.getrusage(RUSAGE_SELF) (user and
system) over the timed part only; peak RSS is ru_maxrss, the process's
high-water mark.
"""

import asyncio
import base64
import json
import resource
import statistics
import sys
import time

PROMPT = "Add a small red planet in the sky"


def edit_args(image, mask):
    return dict(model="dall-e-2", image=image, mask=mask, prompt=PROMPT, response_format="b64_json")


def png_of(result):
    data = base64.b64decode(result.data[0].b64_json)
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise SystemExit("the result is not a PNG")
    return len(data)


class Meter:
    def __init__(self):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu = (usage.ru_utime, usage.ru_stime)
        self.started = time.perf_counter()

    def finish(self, edits, **extra):
        wall = time.perf_counter() - self.started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        user, sys_ = usage.ru_utime - self.cpu[0], usage.ru_stime - self.cpu[1]
        import openai

        return {
            "client": "openai-python",
            "version": openai.__version__,
            "edits": edits,
            "wall_s": wall,
            "edits_per_s": edits / wall,
            "cpu_user_s": user,
            "cpu_sys_s": sys_,
            "cpu_ms_per_edit": (user + sys_) * 1000 / edits,
            "peak_rss_kib": usage.ru_maxrss,
            **extra,
        }


def sequential(edits, image_path, mask_path):
    from openai import OpenAI

    client = OpenAI()  # OPENAI_BASE_URL, OPENAI_API_KEY

    def edit():
        with open(image_path, "rb") as image, open(mask_path, "rb") as mask:
            return client.images.edit(**edit_args(image, mask))

    png_of(edit())  # warm-up
    meter = Meter()
    for _ in range(edits):
        result_bytes = png_of(edit())
    return meter.finish(edits, result_bytes=result_bytes)


def files(edits, image_path, mask_path, out_dir):
    """What a Python user writes to save edits: one after another, each
    result decoded and written to its own file (after one warm-up edit)."""
    import os
    from openai import OpenAI

    client = OpenAI()
    os.makedirs(out_dir, exist_ok=True)

    def edit(i):
        with open(image_path, "rb") as image, open(mask_path, "rb") as mask:
            result = client.images.edit(**edit_args(image, mask))
        data = base64.b64decode(result.data[0].b64_json)
        with open(os.path.join(out_dir, f"{i}.png"), "wb") as f:
            f.write(data)
        return len(data)

    edit("warm-up")
    meter = Meter()
    for i in range(edits):
        result_bytes = edit(i)
    return meter.finish(edits, result_bytes=result_bytes)


def batch(edits, concurrency, image_path, mask_path):
    from openai import AsyncOpenAI

    async def run():
        client = AsyncOpenAI()
        semaphore = asyncio.Semaphore(concurrency)

        async def edit():
            async with semaphore:
                with open(image_path, "rb") as image, open(mask_path, "rb") as mask:
                    return await client.images.edit(**edit_args(image, mask))

        png_of(await edit())  # warm-up
        meter = Meter()
        results = await asyncio.gather(*(edit() for _ in range(edits)))
        for result in results:
            png_of(result)
        return meter.finish(edits, ok=len(results), concurrency=concurrency)

    return asyncio.run(run())


def fault(read_timeout_s, image_path, mask_path, max_retries=None):
    import openai
    from openai import OpenAI

    settings = {"timeout": read_timeout_s}
    if max_retries is not None:
        settings["max_retries"] = max_retries
    client = OpenAI(**settings)
    started = time.perf_counter()
    out = {"client": "openai-python", "version": openai.__version__, "max_retries": client.max_retries}
    try:
        with open(image_path, "rb") as image, open(mask_path, "rb") as mask:
            result = client.images.edit(**edit_args(image, mask))
        out.update(ok=True, elapsed_s=time.perf_counter() - started, result_bytes=png_of(result))
    except openai.APIError as err:
        out.update(ok=False, elapsed_s=time.perf_counter() - started, error=f"{type(err).__name__}: {err}")
    return out


# ---------------------------------------------------------------- report


def spread(values):
    values = sorted(values)
    return values[0], statistics.median(values), values[-1]


def report(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    meta = next(r for r in rows if r.get("kind") == "meta")
    by = {}
    for r in rows:
        if r.get("kind") in ("sequential", "batch", "fault"):
            by.setdefault((r["kind"], r.get("label", r["client"])), []).append(r)

    print(f"machine: {meta['machine']}")
    print(f"load average before / after the timed runs: {meta['load_before']} / {meta.get('load_after', '?')}")
    print(f"openai-python {meta['openai_version']} (httpx {meta['httpx_version']}), Python {meta['python_version']}; "
          f"{meta['rustc']}, release profile")
    print(f"input: {meta['image']} ({meta['image_bytes']} bytes) + {meta['mask']} ({meta['mask_bytes']} bytes), "
          f"dall-e-2, response_format b64_json; {meta['rounds']} rounds, each a fresh emulator and a fresh client process")
    print()

    def timing_table(kind, title, metrics):
        ours, theirs = by.get((kind, "msgflux"), []), by.get((kind, "openai-python"), [])
        if not ours or not theirs:
            return
        print(title)
        print()
        print("| measurement | msgflux best / median (min-max) | openai-python best / median (min-max) | ratio (best) | ratio (median) |")
        print("|---|---:|---:|---:|---:|")
        for name, key, unit, higher_is_better, fmt in metrics:
            a = spread([r[key] for r in ours])
            b = spread([r[key] for r in theirs])
            best_a, best_b = (a[2], b[2]) if higher_is_better else (a[0], b[0])
            ratio_best = best_a / best_b if higher_is_better else best_b / best_a
            ratio_med = a[1] / b[1] if higher_is_better else b[1] / a[1]

            def cell(s, best):
                return f"{fmt.format(best)} / {fmt.format(s[1])} ({fmt.format(s[0])}-{fmt.format(s[2])}) {unit}"

            print(f"| {name} | {cell(a, best_a)} | {cell(b, best_b)} | {ratio_best:.2f}x | {ratio_med:.2f}x |")
        print()

    seq = by.get(("sequential", "msgflux"), [{}])[0]
    timing_table(
        "sequential",
        f"(1) {seq.get('edits', '?')} sequential edits, no server latency "
        "(ratio > 1: msgflux is better by that factor)",
        [
            ("edits per second", "edits_per_s", "/s", True, "{:.1f}"),
            ("client CPU per edit (user+sys)", "cpu_ms_per_edit", "ms", False, "{:.2f}"),
            ("client peak RSS", "peak_rss_mib", "MiB", False, "{:.1f}"),
        ],
    )
    bat = by.get(("batch", "msgflux"), [{}])[0]
    timing_table(
        "batch",
        f"(2) a batch of {bat.get('edits', '?')} edits, {meta.get('latency_ms', '?')} ms server latency each, "
        f"concurrency {bat.get('concurrency', '?')} (ideal wall time: "
        f"{(bat.get('edits', 0) / max(bat.get('concurrency', 1), 1)) * meta.get('latency_ms', 0) / 1000:.2f} s; "
        "ratio > 1: msgflux is better by that factor)",
        [
            ("wall time", "wall_s", "s", False, "{:.3f}"),
            ("client CPU per edit (user+sys)", "cpu_ms_per_edit", "ms", False, "{:.2f}"),
            ("client peak RSS", "peak_rss_mib", "MiB", False, "{:.1f}"),
        ],
    )
    faults = [r for r in rows if r.get("kind") == "fault"]
    if faults:
        print(f"(3) one edit whose first POST stalls {meta.get('stall_ms', '?')} ms (the server accepted it, "
              f"so it is done and billed), read timeout {meta.get('fault_timeout_s', '?')} s; "
              f"and, as a control, one edit whose first POST gets a {meta.get('fail_status', '?')} (not billed). "
              "Edits billed: every POST the server accepted and ran, less error answers")
        print()
        print("| fault | client (settings) | POSTs that reached the server | edits billed | result | outcome | time s |")
        print("|---|---|---:|---:|---|---|---:|")
        for r in faults:
            billed = r["posts"] if r["fault"] == "stall" else r["posts"] - 1  # error answers are not billed
            result = "image" if r["ok"] else "none"
            outcome = "success" if r["ok"] else r["error"].replace("|", "\\|")
            if not r["ok"] and "may_have_been_billed" in r:
                outcome += f" (may_have_been_billed() = {str(r['may_have_been_billed']).lower()})"
            print(f"| {r['fault']} | {r['label']} | {r['posts']} | {billed} | {result} | {outcome} | {r['elapsed_s']:.2f} |")
        print()


def main():
    command, *args = sys.argv[1:] or ["help"]
    if command == "sequential":
        out = sequential(int(args[0]), args[1], args[2])
    elif command == "batch":
        out = batch(int(args[0]), int(args[1]), args[2], args[3])
    elif command == "files":
        out = files(int(args[0]), args[1], args[2], args[3])
    elif command == "fault":
        out = fault(float(args[0]), args[1], args[2], int(args[3]) if len(args) > 3 else None)
    elif command == "report":
        return report(args[0])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
