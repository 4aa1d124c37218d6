"""One library's side of bench/python/run.sh: the same gpt-image-1 edits
(two input images, so the original's request is well formed) against the
OpenAI emulator whose address is in OPENAI_BASE_URL.

    python bench.py original|rs PHOTO SEQUENTIAL BATCH
"""

import json
import resource
import sys
import time

library, photo, sequential, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if library == "original":
    import msgflux as mf
    import msgflux.nn.functional as F
else:
    import msgflux_rs as mf
    import msgflux_rs.nn.functional as F

prompt, images = "Add a sunset sky", [photo, photo]
model = mf.Model.image_text_to_image("openai/gpt-image-1")
model(prompt=prompt, image=images).consume()  # warm-up: connections, imports

started = time.perf_counter()
for _ in range(sequential):
    model(prompt=prompt, image=images).consume()
one_at_a_time = sequential / (time.perf_counter() - started)

started = time.perf_counter()
results = F.map_gather(model, args_list=[(prompt, images)] * batch)
gathered = time.perf_counter() - started
ok = sum(1 for r in results if isinstance(r.consume(), str))

usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "library": library,
    "calls_per_second_one_at_a_time": round(one_at_a_time, 1),
    "map_gather_seconds": round(gathered, 2),
    "map_gather_ok": ok,
    "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
}))
