// The official openai npm package against `msgflux serve`, changing only its baseURL.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const baseURL = process.env.MSGFLUX_GATEWAY_URL + "/v1";
const client = new OpenAI({ baseURL, apiKey: process.env.MSGFLUX_GATEWAY_KEY, maxRetries: 0 });
const photo = () => fs.createReadStream(process.env.MSGFLUX_PHOTO);
const mask = () => fs.createReadStream(process.env.MSGFLUX_MASK);

function pngSize(bytes) {
  assert.equal(bytes.subarray(0, 4).toString("latin1"), "\x89PNG");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test("one image and mask give b64_json at the input size", async () => {
  const result = await client.images.edit({
    model: "local/telea", image: photo(), mask: mask(), prompt: "remove the cup", response_format: "b64_json",
  });
  assert.deepEqual(pngSize(Buffer.from(result.data[0].b64_json, "base64")), [600, 400]);
});

test("a url result downloads", async () => {
  const result = await client.images.edit({ model: "local/telea", image: photo(), mask: mask(), prompt: "remove" });
  const answer = await fetch(result.data[0].url);
  assert.equal(answer.status, 200);
  assert.deepEqual(pngSize(Buffer.from(await answer.arrayBuffer())), [600, 400]);
});

test("several images reach openai through the gateway", async () => {
  const images = [
    await toFile(fs.createReadStream(process.env.MSGFLUX_PHOTO), "a.png", { type: "image/png" }),
    await toFile(fs.createReadStream(process.env.MSGFLUX_PHOTO2), "b.png", { type: "image/png" }),
  ];
  const result = await client.images.edit({ model: "gpt-image-1", image: images, prompt: "together" });
  assert.ok(result.data[0].b64_json || result.data[0].url);
});

test("streaming yields partial images then the completed one", async () => {
  const stream = await client.images.edit({
    model: "gpt-image-1", image: photo(), prompt: "a sunset sky", stream: true, partial_images: 2,
  });
  const kinds = [];
  for await (const event of stream) kinds.push(event.type);
  assert.deepEqual(kinds, ["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]);
});

test("an invalid parameter is BadRequestError with its param", async () => {
  await assert.rejects(
    client.images.edit({ model: "local/telea", image: photo(), mask: mask(), prompt: "x", n: 50 }),
    (err) => err instanceof OpenAI.BadRequestError && err.param === "n",
  );
});

test("an unknown model is NotFoundError", async () => {
  await assert.rejects(
    client.images.edit({ model: "nowhere/model", image: photo(), prompt: "x" }),
    (err) => err instanceof OpenAI.NotFoundError,
  );
});

test("a wrong gateway key is AuthenticationError", async () => {
  const stranger = new OpenAI({ baseURL, apiKey: "not-a-gateway-key-000000", maxRetries: 0 });
  await assert.rejects(
    stranger.images.edit({ model: "local/telea", image: photo(), prompt: "x" }),
    (err) => err instanceof OpenAI.AuthenticationError,
  );
});
