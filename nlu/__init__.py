"""Vietnamese NLU: text normalisation (``nlu.text``, pure Python) and the custom
Rasa 3.6 graph components that use it (``nlu.components``, Rasa env only)."""
