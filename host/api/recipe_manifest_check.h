// recipe_manifest_check.h — a recipe's defaults judged by the schema of the plugin that would
// serve it (its manifest's parameters for the task, "*" and "start"), when recipes load: a
// default the plugin would refuse, or one it does not declare, refuses the recipe then, not at
// the first start or generate.
#pragma once

#include <optional>

#include "core/field_schema.h"
#include "plugin_loader/registry.h"
#include "recipes/recipe.h"

namespace omnihost {

// The first default the serving plugin's schema refuses ("defaults.steps: must be between 1 and
// 50 (got 80)"; "defaults.colour: is not a parameter of plugin x"), or nullopt. Each default is
// judged under the name the plugin uses for it (a manifest alias maps "steps" to
// num_inference_steps); messages name the recipe's own key. A recipe no plugin serves is not
// judged here (its start says why).
std::optional<field_error> check_recipe_against_manifest(const recipe_entry &recipe, const plugin_loader::registry &plugins);

// The same judgement against one manifest (the one serving the recipe's route).
std::optional<field_error> check_recipe_defaults(const recipe_entry &recipe, const plugin_loader::plugin_manifest &manifest);

} // namespace omnihost
