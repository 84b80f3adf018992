# Two commands do everything:  `make run` (the bot in this terminal) and `make test`.
# Both create .venv and install Lotse into it on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test i18n clean

# One line while installing; pip's own output goes to .venv/install.log (shown only if it fails).
$(STAMP): pyproject.toml
	@echo "Installing Lotse and its dependencies into $(VENV)/ (first use, or pyproject.toml changed; about a minute)…"
	@$(PYTHON) -m venv $(VENV)
	@($(BIN)/pip install --upgrade pip && $(BIN)/pip install -e '.[test]') > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; echo "Installing failed; the log is in $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/lotse console

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-extract messages.pot from the code and merge it into every catalog (then translate).
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k G_ -k ngettext:1,2 --no-location --sort-output \
		--project=Lotse --copyright-holder="Lotse contributors" -o locales/messages.pot .
	$(BIN)/python -m bot.catalogs update
	$(BIN)/python -m bot.catalogs check || true

clean:
	rm -rf $(VENV) build *.egg-info
