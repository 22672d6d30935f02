"""A Gradio chat page over a served prompt, with 👍 / 👎 wired to ``POST /v1/feedback`` (the [gradio] extra).

Courses build their front ends with Gradio; this is the post-launch loop in one page: people use the served prompt,
a thumbs-down (with an optional note and the answer they expected) becomes a bad case in the store, and the next
prompt version is rechecked against it. The page talks to the server over its OpenAI-compatible API, like any
other client.

    demo = build_demo("http://127.0.0.1:8000/v1", "sentiment_cloze_en")
    demo.launch()
"""

from __future__ import annotations

from typing import Any

from workbench.registry import require


def build_demo(base_url: str, prompt: str, *, api_key: str = "not-needed", title: str | None = None) -> Any:
    """The Gradio Blocks app: a chat box, and feedback buttons for the last answer."""
    gr = require("gradio", "The Gradio demo")
    import httpx
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=api_key)

    def send(message: str, history: list[dict[str, str]], last_id: str) -> tuple[list[dict[str, str]], str, str, str]:
        if not message.strip():
            return history, last_id, "", "Type a message first."
        reply = client.completions.create(model=prompt, prompt=message)
        answer = reply.choices[0].text
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": answer}]
        return history, reply.id, "", f"answer {reply.id}"

    def rate(rating: str, last_id: str, note: str, expected: str) -> str:
        if not last_id:
            return "Nothing to rate yet: send a message first."
        body = {"id": last_id, "rating": rating, "note": note, "expected": expected or None}
        response = httpx.post(
            f"{base_url}/feedback", json=body, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
        )
        data = response.json()
        if response.status_code != 200:
            return f"Feedback refused: {data.get('error', {}).get('message', response.text)}"
        if data.get("bad_case_id"):
            return f"Thanks — recorded as bad case #{data['bad_case_id']}."
        return "Thanks for the 👍."

    with gr.Blocks(title=title or f"Prompt Workbench · {prompt}") as demo:
        gr.Markdown(f"### {title or prompt}\nAsk, then rate the answer: 👎 turns it into a bad case to fix.")
        chat = gr.Chatbot(label="Conversation")
        last_id = gr.State("")
        message = gr.Textbox(label="Message", placeholder="Type and press Enter")
        with gr.Row():
            up = gr.Button("👍", elem_id="thumbs-up")
            down = gr.Button("👎", elem_id="thumbs-down")
        note = gr.Textbox(label="What was wrong? (optional)")
        expected = gr.Textbox(label="The answer you expected (optional)")
        status = gr.Markdown()
        message.submit(send, [message, chat, last_id], [chat, last_id, message, status], api_name="send")

        def thumbs_up(last: str, note: str, expected: str) -> str:
            return rate("up", last, note, expected)

        def thumbs_down(last: str, note: str, expected: str) -> str:
            return rate("down", last, note, expected)

        up.click(thumbs_up, [last_id, note, expected], status, api_name="thumbs_up")
        down.click(thumbs_down, [last_id, note, expected], status, api_name="thumbs_down")
    return demo
