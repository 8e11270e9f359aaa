# Resource catalog: endpoint coverage and the generated reference page.
RESOURCE_LUA := $(wildcard lua/gitlab/resources/*.lua lua/gitlab/resources/kinds/*.lua)

.PHONY: coverage docs

# covered/total of ../shared/reference/gitlab-endpoints.tsv (fails below 95%)
coverage:
	@$(LUA54) tools/coverage.lua $(COVERAGE_ARGS)

docs: docs/reference.md

docs/reference.md: tools/gendocs.lua $(RESOURCE_LUA)
	$(LUA54) tools/gendocs.lua > $@.tmp && mv $@.tmp $@
