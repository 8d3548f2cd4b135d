// toml++ in header-only mode (Debian ships it as a shared library; dlrig links nothing
// third-party dynamically). Include this, never <toml++/toml.h> directly.
#pragma once

#ifndef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#endif
#include <toml++/toml.h>
