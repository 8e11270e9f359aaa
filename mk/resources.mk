# Resource catalog: endpoint coverage and the generated reference page.
RESOURCE_LUA := $(wildcard lua/gitlab/resources/*.lua lua/gitlab/resources/kinds/*.lua)

.PHONY: coverage docs

# covered/total of docs/reference/gitlab-endpoints.tsv, the vendored list of
# endpoints the established clients cover; fails below 98% reachable or
# excluded with a reason (lua/gitlab/resources/exclusions.tsv), or below 92%
# reachable; and fails unless every endpoint of the 40 doc pages listed in
# docs/inventory is reachable. COVERAGE_ARGS=--missing lists what is left,
# COVERAGE_ARGS=--pages gives each page's figure.
coverage: docs/reference/gitlab-endpoints.tsv
	@$(LUA54) tools/coverage.lua $(COVERAGE_ARGS)

docs: docs/reference.md

docs/reference.md: tools/gendocs.lua $(RESOURCE_LUA)
	$(LUA54) tools/gendocs.lua > $@.tmp && mv $@.tmp $@
