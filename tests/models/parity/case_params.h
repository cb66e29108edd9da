// Reading the parameters a golden case file states, so no case hard-codes them.
//
// A case names its scheduler in one of three ways (all seen in the golden set):
//   "FlowMatchEulerDiscreteScheduler(shift=3.0)"          class + keyword arguments (other fields:
//                                                          diffusers' defaults)
//   "CosineDPMSolverMultistepScheduler(**config)"         class + the case's "config" object
//   "wan21_tiny/scheduler (UniPCMultistepScheduler flow)" a scheduler folder under the golden root
// scheduler_config() turns any of them into a scheduler_config.json object ("_class_name" + fields).
// Placeholders (e.g. SHIFT in a tables case's "call") are replaced from `values`. Anything it cannot
// read is a parity::failure naming the text, never a silent default.
#pragma once

#include "parity.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace omnihost::parity {

nlohmann::json scheduler_config(const context &ctx, const nlohmann::json &info, const std::string &text,
                                const std::map<std::string, nlohmann::json> &values = {});

// info[key] when present and not null ("null means not given").
std::optional<nlohmann::json> given(const nlohmann::json &info, const std::string &key);

// The model folder a case names: the first word of info["model"] ("wan21_tiny with scheduler
// replaced" -> "wan21_tiny"); failure when absent.
std::string model_folder(const nlohmann::json &info);

}  // namespace omnihost::parity
