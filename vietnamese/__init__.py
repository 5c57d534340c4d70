"""Pure Python shared by the app and the Rasa environment: text folding
(``text``), crisis terms (``crisis``), entity parsing (``entities``), training
data augmentation (``augment``) and the one source of time (``clock``).
Imports nothing from ``bot``, ``nlu`` or ``actions``; part of the model inputs
(``bot.runtime.rasa_env.MODEL_INPUTS``)."""
