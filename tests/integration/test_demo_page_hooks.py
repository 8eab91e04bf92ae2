"""The demo page built in-process (no Ray) around a user's own serve hooks, as docs/extending.md
shows them: the input hook's own Gradio component and `to_sample`, the output hook's own component,
examples and errors from the digits validation data. Real Gradio and a real (untrained) model."""

import json

import pytest

DATA = {"_target_": "mlws.examples.digits.DigitsDataModule", "normalize": True}


class PixelsInput:
    """The team's own request format, {"pixels": [64 numbers]} (docs/extending.md), with the page's methods."""

    def __init__(self):
        self.shape = (1, 8, 8)

    def __call__(self, samples):
        import torch

        return torch.tensor([s["pixels"] for s in samples]).reshape(len(samples), 1, 8, 8) / 16.0

    def gradio_input(self, gr):
        table = gr.Dataframe(value=[[0.0] * 8] * 8, datatype="number", label="pixels 0..16")
        return table, lambda frame: {"pixels": [float(v) for row in frame.values for v in row]}

    def to_sample(self, x):
        return {"pixels": (x * 16).flatten().tolist()}


class TopClass:
    kind = "classification"

    def __call__(self, outputs):
        return {"predictions": outputs.argmax(-1).tolist()}

    def gradio_output(self, gr):
        return gr.Textbox(label="the digit"), lambda answer: f"it is a {answer['predictions'][0]}"


@pytest.fixture(scope="module")
def server():
    import torch

    torch.manual_seed(0)

    class Server:
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10)).eval()
        to_tensor, to_answer = PixelsInput(), TopClass()
        args = {"run_id": 7, "experiment": "mine", "config": {"data": DATA}}

    return Server()


@pytest.mark.slow  # seconds: out of the fast lane (make test-fast), still in make test
def test_examples_and_errors_come_back_in_the_hooks_own_request_form(server):
    import torch
    from hydra.utils import instantiate

    from mlws.serving.gradio_page import Demo

    demo = Demo(server)
    dm = instantiate(DATA)
    dm.setup("validate")
    x, y = dm.val_set.tensors
    with torch.no_grad():
        predicted = server.model(x).argmax(-1)
    assert demo.image is None and len(demo.examples) == 12 and len(demo.validation) == len(y)
    first = demo.examples[0]
    assert set(first["sample"]) == {"pixels"} and first["sample"]["pixels"] == pytest.approx(
        (x[0] * 16).flatten().tolist()
    )
    assert first["target"] == y[0].item()
    assert {r["index"] for r in demo.wrong} == {i for i in range(len(y)) if predicted[i] != y[i]}
    result, sent, answer, caption, picture = demo.run(first["sample"], "example")
    assert json.loads(answer)["predictions"] == [predicted[0].item()] and picture is None


def test_own_components_appear_on_the_page(server):
    from fastapi.testclient import TestClient

    from mlws.serving.gradio_page import build

    app = build(server)
    with TestClient(app) as client:
        config = client.get("/demo/config").json()
        page = client.get("/demo/")
    kinds = {(c["type"], c.get("props", {}).get("label")) for c in config["components"]}
    assert ("dataframe", "pixels 0..16") in kinds and ("textbox", "the digit") in kinds
    assert page.status_code == 200 and "fonts.googleapis" not in page.text
