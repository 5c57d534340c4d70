"""Custom Rasa 3.6 graph components for Vietnamese (import only in the Rasa env).

config.yml refers to them by module path, e.g. ``nlu.components.VietnameseTokenizer``.
Class names are unique on purpose: Rasa's registry is keyed by bare class name.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vietnamese.clock import today_in_vietnam
from vietnamese import crisis as vcrisis
from vietnamese import entities as ventities
from vietnamese import text as vtext

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _text_module_digest() -> str:
    return hashlib.sha256(inspect.getsource(vtext).encode()).hexdigest()


def _abbreviations_path(config: Dict[str, Any]) -> Path:
    path = Path(config.get("abbreviations_file") or vtext.DEFAULT_ABBREVIATIONS)
    return path if path.is_absolute() else _PROJECT_ROOT / path


def _abbreviations_digest(config: Dict[str, Any]) -> str:
    return hashlib.sha256(_abbreviations_path(config).read_bytes()).hexdigest()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class VietnameseTokenizer(WhitespaceTokenizer):
    """Whitespace syllables over the normalised message text.

    Text typed with combining marks (NFD keyboards, VNI/Telex leftovers) is
    composed to NFC and old-style tone placement ("hoà", "thuỷ") is moved to the
    modern position before tokenizing; the message text is rewritten, so token
    offsets stay valid for it.
    """

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return _text_module_digest()

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        value = message.get(attribute)
        if isinstance(value, str):
            normalized = vtext.normalize(value)
            if normalized != value:
                message.set(attribute, normalized)
        return super().tokenize(message, attribute)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class FoldedCountVectorsFeaturizer(CountVectorsFeaturizer):
    """Count vectors over the diacritics-free, abbreviation-expanded view of each token.

    Used next to the ordinary (accented) CountVectorsFeaturizer: accents
    disambiguate "vay" (loan) from "vậy" when they are typed, and this view
    matches "toi muon vay von" / "ko dc" when they are not. One output per
    input token, so sequence features stay aligned with the tokens.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **CountVectorsFeaturizer.get_default_config(),
            "expand_abbreviations": True,
            "abbreviations_file": "data/normalization/abbreviations.yml",
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        # Rasa fingerprints only this class's source; the folding code and the
        # abbreviation table live elsewhere, so add them or the cache goes stale.
        parts = [_text_module_digest()]
        if config.get("expand_abbreviations", True):
            parts.append(_abbreviations_digest(config))
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    @functools.cached_property
    def _abbreviations(self) -> Optional[vtext.Abbreviations]:
        if not self._config.get("expand_abbreviations", True):
            return None
        return vtext.Abbreviations.load(_abbreviations_path(self._config))

    def _process_tokens(self, tokens: List[Text], attribute: Text = TEXT) -> List[Text]:
        if attribute == TEXT:
            if self._abbreviations is not None:
                tokens = [self._abbreviations.expand_token(t) for t in tokens]
            tokens = [vtext.fold(t) for t in tokens]
        return super()._process_tokens(tokens, attribute)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    """Predict ``nlu_fallback`` when no word of the message occurs in the training data.

    A linear classifier still assigns a confident-looking intent to "asdkj qwe"
    (its class priors); if not one word (folded, abbreviations expanded, numbers
    ignored) was ever seen in training, we cannot have understood the message.
    Place it after FallbackClassifier.
    """

    VOCABULARY_FILE = "vocabulary.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"abbreviations_file": "data/normalization/abbreviations.yml"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return hashlib.sha256(
            (_text_module_digest() + _abbreviations_digest(config)).encode()
        ).hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[set] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._abbreviations = vtext.Abbreviations.load(_abbreviations_path(config))
        self.vocabulary: set = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UnknownWordsFallback":
        return cls(config, model_storage, resource)

    def _words(self, text: Text) -> List[Text]:
        folded = vtext.fold(self._abbreviations.expand(vtext.nfc(text)))
        return [w for w in re.findall(r"\w+", folded) if not w.isdigit()]

    def train(self, training_data: TrainingData) -> Resource:
        self.vocabulary = {
            w for example in training_data.intent_examples for w in self._words(example.get(TEXT) or "")
        }
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / self.VOCABULARY_FILE).write_text(
                json.dumps(sorted(self.vocabulary), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownWordsFallback":
        with model_storage.read_from(resource) as model_dir:
            words = json.loads((model_dir / cls.VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, set(words))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            words = self._words(text)
            if words and not any(w in self.vocabulary for w in words):
                # Confidence 1.0 marks "nothing recognised" (also when the
                # FallbackClassifier already fell back), so the fallback action
                # shows the menu instead of guessing.
                fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.data[INTENT] = fallback
                ranking = [r for r in message.data.get(INTENT_RANKING_KEY, [])
                           if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
                message.data[INTENT_RANKING_KEY] = [dict(fallback), *ranking]
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class VietnameseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Money, dates, durations and penalty types, with normalised values
    (``vietnamese.entities``): "50tr" → 50000000, "tháng 3 năm 2024" → "2024-03",
    "3 năm tù" → "P3Y" + prison. Rule-based, so it needs no annotated training
    data and works the same with or without diacritics. Relative dates
    ("năm ngoái") are resolved against today's date in Vietnam.
    """

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        source = inspect.getsource(ventities) + inspect.getsource(vtext)
        return hashlib.sha256(source.encode()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseEntityExtractor":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        today = today_in_vietnam()
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end,
                 "confidence_entity": 1.0}
                for e in ventities.extract(text, today)
            ]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(found),
                add_to_output=True,
            )
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class ThanksNeedThanksWords(GraphComponent, IntentClassifier):
    """``thank`` is said in a handful of words ("cảm ơn", "thks", "biết ơn"). The character
    n-grams of a short message without any of them can still look like thanks ("e can it von
    de lam an": "can … an" ~ "cảm ơn"); such a message gets the classifier's next intent
    instead of "không có gì ạ". Thanks followed by a question ("cảm ơn, thế tạm trú thì sao") also gets
    the next intent: the question is answered. Place it right after the intent classifier."""

    INTENT = "thank"
    CUES = re.compile(r"\b(cam on|cm on|camon|cmon|thank|thanks|thankyou|tks|thks|thx|ty|biet on|da ta|cam ta|"
                      r"mang on|on nhieu)\b")

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        from nlu import questions as nq

        return hashlib.sha256((inspect.getsource(cls) + inspect.getsource(nq)).encode()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ThanksNeedThanksWords":
        return cls()

    @classmethod
    def says_thanks(cls, text: str) -> bool:
        return bool(cls.CUES.search(vtext.fold(text).lower()))

    @classmethod
    def asks_after_thanks(cls, text: str) -> bool:
        """"cảm ơn, thế tạm trú thì sao": thanks, then a question (nlu.questions.asks_after_thanks)."""
        from nlu.questions import asks_after_thanks

        return asks_after_thanks(text, cls.CUES)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent != self.INTENT or not text or text.startswith("/"):
                continue
            if self.says_thanks(text) and not self.asks_after_thanks(text):
                continue
            ranking = [r for r in message.data.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != self.INTENT]
            if not ranking:
                continue
            message.data[INTENT] = {INTENT_NAME_KEY: ranking[0][INTENT_NAME_KEY],
                                    PREDICTED_CONFIDENCE_KEY: ranking[0].get(PREDICTED_CONFIDENCE_KEY, 0.0)}
            message.data[INTENT_RANKING_KEY] = ranking
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class EnrollNeedsEnrollWords(ThanksNeedThanksWords):
    """``enroll`` is said with a code or a word about registering or linking the chat. Folded,
    the conjunction "mà" is "ma" like "mã" (code): "ma nop ho so o dau ad" ("mà nộp hồ sơ ở đâu ạ",
    asked after a loan answer) is not a registration code. Without any of those words the message
    gets the classifier's next intent. Place it right after ThanksNeedThanksWords."""

    INTENT = "enroll"
    CUES = re.compile(r"\b(dang ky|dk|dky|dki|lien ket|kich hoat|ket noi|tai khoan|tk|gan|can bo|cb|cax|code|enroll|register|"
                      r"registration|link|sign up|hien (trong|trog) nay|"
                      r"(nhap|gui|phat|cho|xin|tao|co|nhan|dua|dung|lay|doi) ma|ma (dang ky|kich hoat|cua|nay|do|"
                      r"het han|bi|sai|khong|ko|k|la)|ma\W*$)\b|\b(?=[a-z0-9]{6}\b)(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{6}\b"
                      r"|\bma\s*[,.:;!?]|\b(cai|mot|con) ma\b|\bhien trong nay\b|\bho so cua (toi|em|minh|tui) o xa\b")

    @classmethod
    def says_thanks(cls, text: str) -> bool:
        return bool(cls.CUES.search(vtext.fold(text).lower()))

    @classmethod
    def asks_after_thanks(cls, text: str) -> bool:
        return False  # a code followed by a question ("mã ABC123 sao không được") is still enrollment


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class CrisisTermsOverride(GraphComponent, IntentClassifier):
    """Predict ``crisis`` whenever the message contains a crisis term
    (data/normalization/crisis.yml), whatever the classifier said.

    Recall on crisis messages must not depend on a statistical classifier's
    confidence: a missed crisis costs far more than an unneeded crisis answer.
    Place it last among the intent classifiers.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # The same component with another terms file and intent (distress.yml →
        # distress) predicts that intent unless the classifier already chose
        # one of ``unless_intents`` (a crisis stays a crisis).
        return {"crisis_terms_file": "data/normalization/crisis.yml",
                "abbreviations_file": "data/normalization/abbreviations.yml",
                "intent": "crisis",
                "unless_intents": []}

    @classmethod
    def _terms_path(cls, config: Dict[str, Any]) -> Path:
        path = Path(config.get("crisis_terms_file") or vcrisis.DEFAULT_CRISIS_TERMS)
        return path if path.is_absolute() else _PROJECT_ROOT / path

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        parts = (inspect.getsource(vcrisis), _text_module_digest(), _abbreviations_digest(config),
                 hashlib.sha256(cls._terms_path(config).read_bytes()).hexdigest())
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._intent = config.get("intent", "crisis")
        self._unless = set(config.get("unless_intents") or [])
        self._lexicon = vcrisis.CrisisLexicon.load(
            self._terms_path(config), vtext.Abbreviations.load(_abbreviations_path(config))
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisTermsOverride":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or not self._lexicon.matches(text):
                continue
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in self._unless:
                continue
            crisis = {INTENT_NAME_KEY: self._intent, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.data[INTENT] = crisis
            ranking = [r for r in message.data.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != self._intent]
            message.data[INTENT_RANKING_KEY] = [dict(crisis), *ranking]
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class CaseFactsOverride(GraphComponent, IntentClassifier):
    """A message that is a person's sentence and its completion ("bi 18 thang
    tu, ra trai thang 3 nam 2025", "3 nam tu, ra tu 01/06/2023") is the
    expungement case, whatever topic the classifier guessed from its words:
    predict ``ask_expungement`` (its action computes the answer). Messages that
    name another topic (a loan, the LLTP certificate, papers) keep their intent.
    Place it before the crisis overrides: crisis words still win."""

    # ask_loan is not kept: a sentence and its completion with no word about a loan
    # ("bi 18 thang tu, ra trai thang 3 nam 2025") is the case even when the
    # classifier, which has seen "ra trại" in loan questions, says loan.
    _fold: Any = None   # nlu.questions.Folder, made on first use
    KEEP = {"ask_expungement", "calc_expungement", "check_loan", "request_human",
            "erase_my_data", "enroll", "checkin"}
    # Folded, "vậy" is "vay": "…ra tù 25/11/2025, vậy bao giờ anh em hết án tích?" names no loan. "vay" is
    # the loan only where it is not that particle: before "bao giờ", "khi nào", a pronoun, a final "à/nhỉ/hả",
    # or after "như", "thế", "sao", "là" (acceptance_fresh13: two stories lost to "vay" in their folded form).
    OTHER_TOPIC = re.compile(r"\b((?<!nhu )(?<!the )(?<!sao )(?<!la )vay(?!\s+(?:bao gio|khi nao|e|em|toi|minh|anh|"
                             r"chi|a|ak|nhi|ha|sao|la)\b)|von|ly lich|lltp|phieu|cu tru|tam tru|thuong tru|"
                             r"can cuoc|cccd|cmnd|giay to|ho so|viec lam|xin viec|quan che|trinh dien|bao cao)\b")
    # Words of another topic that are also part of a story ("3 năm tù và 3 năm quản chế … đến ngày nào
    # được xóa án tích", acceptance_fresh12): they keep the case when the message asks about the record.
    STORY_WORDS = frozenset({"quan che", "trinh dien", "bao cao"})
    # A message that asks about the record ("hết án tích chưa", "được xóa án"): the case even when the
    # classifier is sure of another topic.
    ASKS_RECORD = re.compile(r"\b(an tich|xoa an|sach an|tien an|xoa tien an)\b")
    # The classifier is sure the message is about another topic it answers (a community sentence's
    # duties, residence…) and the message asks a question without a word about the record: "e bị án treo
    # 2 năm thử thách từ 1/12/2025, e muốn vô SG làm 3 tháng được không" asks about leaving, not the
    # record (acceptance_fresh13). Below this confidence the case is still worked out.
    # (0.6: "được xã giao giúp đỡ 1 anh đã chấp hành xong án, tháng này anh ấy không đến gặp, có phải báo
    # công an không" was the duties at 0.70, acceptance_fresh14.)
    SURE_OF_ANOTHER_TOPIC = 0.6
    WEAK = {"out_of_scope", DEFAULT_NLU_FALLBACK_INTENT_NAME, "inform", "affirm", "deny"}
    COMPLETED = re.compile(r"\b(ra tu|ra trai|chap hanh xong|man han|het an|mang an)\b")
    # The age at the offence, said alone ("lúc đó e mới 15t", "luc do toi 25t", "hồi đó em 17 tuổi"): only
    # the expungement case asks it; its action recomputes the answer with the facts kept.
    _AGE_THEN = (r"^\W*(?:(?:nhung|ma|a|oi|da|vang|thi)\s+)*(?:luc do|khi do|hoi do|nam do|luc ay|khi ay|hoi ay|"
                 r"luc pham toi|khi pham toi)\b(?:\s+\w+){0,3}?\s+\d{1,2}\s*(?:t|tuoi)\b")
    AGE_THEN = re.compile(_AGE_THEN + r"(?:\s+\w+){0,3}\W*$")
    # …followed by more about the crime ("hồi đó e mới 16t, trộm khoản 1 thôi"), when it names no other topic.
    AGE_THEN_MORE = re.compile(_AGE_THEN + r"(?:\W+\w+){0,8}\W*$")

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return hashlib.sha256(inspect.getsource(cls).encode()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CaseFactsOverride":
        return cls()

    @classmethod
    def is_case(cls, text: str, entities: List[Dict[str, Any]], weak: bool = False) -> bool:
        """A sentence and its completion date; or, when the classifier found no topic
        (``weak``), a sentence alone ("à nhầm, tù 7 năm": a correction of the case)."""
        kinds = {e.get("entity") for e in entities}
        sentence = cls.states_a_sentence(entities)
        folded = vtext.fold(text)
        if cls.AGE_THEN.search(folded.strip()):
            return True
        completed = bool(cls.COMPLETED.search(folded))  # "ra tù 01/06/2023": the date the answer asked for
        other = {m.group(0) for m in cls.OTHER_TOPIC.finditer(folded)}
        if other and not (other <= cls.STORY_WORDS and cls.ASKS_RECORD.search(folded)):
            return False
        if cls.AGE_THEN_MORE.search(folded.strip()):
            return True
        return (sentence or completed) and "date" in kinds or sentence and weak

    @classmethod
    def asks_another_question(cls, message: Message) -> bool:
        """A message that asks a question the QuestionRetriever is sure of (nlu.questions.OVERRIDE) and
        tells no sentence: "được phân công giúp đỡ 1 bạn ra tù, 3 tuần nay bạn ấy không nghe máy, có phải
        báo công an không" asks that question; "ra tù" and "3 tuần nay" are no case to work out
        (acceptance_fresh11). "em ra trại hôm 2/10/2022", typed to the form's question, asks nothing."""
        from nlu import questions as nq

        question = message.get("question") or {}
        if not question.get("id") or float(question.get("confidence") or 0.0) < nq.OVERRIDE:
            return False
        return nq.has_question(cls._folded(message)) and \
            not cls.states_a_sentence(message.get(ENTITIES, []))

    @classmethod
    def asks_about_another_topic(cls, message: Message, intent: Optional[str]) -> bool:
        from nlu import questions as nq

        confidence = float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        if intent in cls.WEAK or intent in ("crisis", "distress") or confidence < cls.SURE_OF_ANOTHER_TOPIC:
            return False
        folded = cls._folded(message)
        return nq.has_question(folded) and not cls.ASKS_RECORD.search(folded)

    @classmethod
    def _folded(cls, message: Message) -> str:
        """The message folded and expanded as the question model reads it ("ko" → "không")."""
        from nlu import questions as nq

        if cls._fold is None:
            cls._fold = nq.Folder(vtext.Abbreviations.load())
        return cls._fold(message.get(TEXT) or "")

    @staticmethod
    def states_a_sentence(entities: List[Dict[str, Any]]) -> bool:
        kinds = {e.get("entity") for e in entities}
        penalties = {e.get("value") for e in entities if e.get("entity") == "penalty_type"}
        return "duration" in kinds and bool(penalties) or bool(penalties & {"suspended", "life"})

    @classmethod
    def is_case_for(cls, text: str, entities: List[Dict[str, Any]], intent: Optional[str]) -> bool:
        return cls.is_case(text, entities, weak=intent in cls.WEAK)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent in self.KEEP:
                continue
            if self.asks_another_question(message):
                continue
            if self.asks_about_another_topic(message, intent):
                continue
            if not self.is_case_for(text, message.get(ENTITIES, []), intent):
                continue
            case = {INTENT_NAME_KEY: "ask_expungement", PREDICTED_CONFIDENCE_KEY: 1.0}
            message.data[INTENT] = case
            ranking = [r for r in message.data.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != "ask_expungement"]
            message.data[INTENT_RANKING_KEY] = [dict(case), *ranking]
        return messages


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class QuestionRetriever(GraphComponent, IntentClassifier):
    """Which specific question (a knowledge entry with ``question``) the message asks.

    Trained on the entries' hand-written ``examples`` (``nlu.questions``).
    Adds ``question`` to the parse data: ``{"id", "confidence", "ranking"}`` (id
    None when no question is confidently asked, so the topic answer is given).
    A question of another topic, asked with high confidence, also changes the
    routed intent (a misrouted topic). Place it after the fallbacks and before
    the crisis overrides (a crisis stays a crisis).
    """

    MODEL_FILE = "questions.pkl"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"abbreviations_file": "data/normalization/abbreviations.yml",
                "knowledge_dir": "data/knowledge"}

    @classmethod
    def _dir(cls, config: Dict[str, Any], key: str) -> Path:
        path = Path(config.get(key) or cls.get_default_config()[key])
        return path if path.is_absolute() else _PROJECT_ROOT / path

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        from nlu import questions as nq

        qs = nq.question_examples(cls._dir(config, "knowledge_dir"))
        parts = [nq.examples_digest(qs), _text_module_digest(), _abbreviations_digest(config),
                 inspect.getsource(nq)]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Any = None, questions: Optional[Dict[str, dict]] = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.questions = questions or {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "QuestionRetriever":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        import pickle

        from nlu import questions as nq

        self.questions = nq.question_examples(self._dir(self._config, "knowledge_dir"))
        abbreviations = vtext.Abbreviations.load(_abbreviations_path(self._config))
        self.model = nq.QuestionModel(abbreviations).fit({q: v["examples"] for q, v in self.questions.items()})
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / self.MODEL_FILE).write_bytes(pickle.dumps((self.model, self.questions)))
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "QuestionRetriever":
        import pickle

        try:
            with model_storage.read_from(resource) as model_dir:
                model, questions = pickle.loads((model_dir / cls.MODEL_FILE).read_bytes())
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, model, questions)

    def process(self, messages: List[Message]) -> List[Message]:
        from nlu import questions as nq

        for message in messages:
            text = message.get(TEXT)
            if not text or self.model is None:
                continue
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            intent_confidence = float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            folded = self.model.fold(text)
            term_months = nq.prison_term_months(message.get(ENTITIES) or [])
            choice = nq.choose(self.model.predict(text), intent, self.questions,
                               words=len(folded.split()), folded=folded, term_months=term_months,
                               intent_confidence=intent_confidence)
            # Two questions in one message ("làm ở đâu và mất bao lâu"): each is answered, in
            # the order asked (``several``, actions.answers.utter_question); ``id`` stays the one
            # the whole message chose when it is one of them, else the first clause's.
            several = nq.choose_many(self.model, text, intent, self.questions, term_months)
            if several and choice.id not in {c.id for c in several}:
                choice = several[0]
            parse = {"id": choice.id, "confidence": round(choice.confidence, 4),
                     "ranking": [{"id": q, "confidence": round(c, 4)} for q, c in choice.ranking],
                     "several": [c.id for c in several]}
            # A short follow-up ("thế còn lãi suất?") read with each topic's subject: the action
            # keeps the reading of the previous answer's topic (actions.followups).
            context = nq.context_readings(self.model, folded) if not text.startswith("/") else {}
            if context:
                parse["context"] = context
            message.set("question", parse, add_to_output=True)
            if choice.id and choice.intent and choice.intent != intent:
                routed = {INTENT_NAME_KEY: choice.intent, PREDICTED_CONFIDENCE_KEY: choice.confidence}
                ranking = [r for r in message.data.get(INTENT_RANKING_KEY, [])
                           if r.get(INTENT_NAME_KEY) != choice.intent]
                message.data[INTENT] = routed
                message.data[INTENT_RANKING_KEY] = [dict(routed), *ranking]
        return messages
