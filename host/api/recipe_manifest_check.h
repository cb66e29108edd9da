// recipe_manifest_check.h — a recipe's defaults judged by the schema of the plugin that would
// serve it (its manifest's parameters for the task and for "start"), when recipes load: a default
// the plugin would refuse is reported then, not at the first generate.
#pragma once

#include <optional>

#include "api/field_schema.h"
#include "plugin_loader/registry.h"
#include "recipes/recipe.h"

namespace omnihost {

// The first default the serving plugin's schema refuses ("defaults.steps: must be between 1 and
// 50 (got 80)"), or nullopt. A recipe no plugin serves is not judged here (its start says why).
std::optional<FieldError> check_recipe_against_manifest(const Recipe &recipe, const plugin_loader::registry &plugins);

} // namespace omnihost
