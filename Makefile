# Quick start:  make run   (set up and start the assistant)   make test   (set up and run every test)
SHELL := /bin/bash
.DEFAULT_GOAL := run

RASA_VENV := .venv-rasa
APP_VENV := .venv
RASA := $(RASA_VENV)/bin/rasa
APP_PY := $(APP_VENV)/bin/python
# Rasa 3.6 runs on Python 3.10 only; our code on a Python with security support (the first found).
RASA_PYTHON := 3.10
APP_PYTHON := 3.13 3.12
SPACY_MODEL := build/spacy-en
MODEL := models/clinic.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data -type f -name '*.yml' 2>/dev/null | sort) $(wildcard nlp/*.py)
SETUP_LOG := build/setup.log
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Rasa's and TensorFlow's start-up chatter; warnings and errors still show.
export TF_CPP_MIN_LOG_LEVEL := 2
# These machines reach only package registries; Rasa must not try to report anywhere.
export RASA_TELEMETRY_ENABLED := false

.PHONY: run test bench setup train system-packages clean

setup: $(APP_VENV)/.installed $(RASA_VENV)/.installed $(MODEL)

run: setup
	@$(APP_PY) -m bot run

test: setup system-packages
	@echo "==> Running the tests"
	@$(APP_PY) -m pytest

bench: setup
	@$(APP_PY) -m bench $(BENCH_ARGS)

train: $(MODEL)

system-packages:
	@scripts/install-system-packages

$(RASA_VENV)/.installed: requirements-rasa.txt scripts/find-python
	@echo "==> Installing the Rasa environment ($(RASA_VENV)/; a few minutes on a new machine)"
	@mkdir -p build
	@test -x $(RASA_VENV)/bin/python || "$$(scripts/find-python $(RASA_PYTHON))" -m venv $(RASA_VENV)
	@$(RASA_VENV)/bin/pip install -q --upgrade pip wheel >>$(SETUP_LOG) 2>&1 || { tail -n 30 $(SETUP_LOG); exit 1; }
	@$(RASA_VENV)/bin/pip install -q -r requirements-rasa.txt >>$(SETUP_LOG) 2>&1 || { tail -n 30 $(SETUP_LOG); exit 1; }
	@# TensorFlow 2.12 requires JAX only for converting JAX models to TFLite, which Rasa never does, yet
	@# imports it when present: 100 MB and a second of start-up in every Rasa process.
	@$(RASA_VENV)/bin/pip uninstall -q -y jax jaxlib >>$(SETUP_LOG) 2>&1 || { tail -n 30 $(SETUP_LOG); exit 1; }
	@touch $@

$(APP_VENV)/.installed: pyproject.toml scripts/find-python
	@echo "==> Installing the application environment ($(APP_VENV)/)"
	@mkdir -p build
	@# An environment left from an older Python is made anew.
	@$(APP_PY) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 12))' 2>/dev/null || rm -rf $(APP_VENV)
	@test -x $(APP_PY) || "$$(scripts/find-python $(APP_PYTHON))" -m venv $(APP_VENV)
	@$(APP_VENV)/bin/pip install -q --upgrade pip >>$(SETUP_LOG) 2>&1 || { tail -n 30 $(SETUP_LOG); exit 1; }
	@$(APP_VENV)/bin/pip install -q -e '.[test]' >>$(SETUP_LOG) 2>&1 || { tail -n 30 $(SETUP_LOG); exit 1; }
	@touch $@

$(SPACY_MODEL)/meta.json: nlp/build_spacy_model.py nlp/body_areas.json $(RASA_VENV)/.installed
	@echo "==> Building the spaCy pipeline ($(SPACY_MODEL)/)"
	@$(RASA_VENV)/bin/python nlp/build_spacy_model.py $(SPACY_MODEL) >>$(SETUP_LOG) 2>&1 || { tail -n 30 $(SETUP_LOG); exit 1; }

# Retrains only when the configuration, the domain, the training data or the spaCy pipeline changed.
$(MODEL): $(TRAINING_INPUTS) $(SPACY_MODEL)/meta.json $(RASA_VENV)/.installed
	@echo "==> Training the assistant's model (a few minutes; log in build/train.log)"
	@$(RASA) train --fixed-model-name clinic --out models >build/train.log 2>&1 || { tail -n 40 build/train.log; exit 1; }
	@touch $@

clean:
	rm -rf build models results .rasa
