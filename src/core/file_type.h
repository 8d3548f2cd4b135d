// What a file that is not the regular file a caller expected is, for messages.
#pragma once

#include <sys/types.h>

namespace dlrig {

/// "a FIFO", "a directory", "a symbolic link", "a regular file": the kind of file `mode` names.
const char* FileTypeName(mode_t mode);

}  // namespace dlrig
