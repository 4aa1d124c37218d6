"""N sequential edits through the official Python SDK (google-genai), against
the Gemini emulator: the same request msgflux sends (prompt + one inline PNG,
responseModalities TEXT+IMAGE), each result decoded from base64 and written."""
import json
import os
import sys
import time

from google import genai
from google.genai import types


def main() -> None:
    n, image_path, out_dir, model = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    os.makedirs(out_dir, exist_ok=True)
    client = genai.Client(
        api_key=os.environ["GEMINI_API_KEY"],
        # The endpoint msgflux calls (v1beta), whatever version the SDK defaults to.
        http_options=types.HttpOptions(base_url=os.environ["GOOGLE_GEMINI_BASE_URL"], api_version="v1beta"),
    )
    image = open(image_path, "rb").read()
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])
    started = time.perf_counter()
    for i in range(n):
        response = client.models.generate_content(
            model=model,
            contents=["make the coffee a cappuccino", types.Part.from_bytes(data=image, mime_type="image/png")],
            config=config,
        )
        data = next(p.inline_data.data for p in response.candidates[0].content.parts if p.inline_data)
        with open(os.path.join(out_dir, f"result-{i}.png"), "wb") as f:
            f.write(data)
    print(json.dumps({"client": "google-genai", "version": genai.__version__, "edits": n,
                      "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
