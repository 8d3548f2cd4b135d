// kernel driver and user-space driver layers in the doctor report: facts, no judgement.
#pragma once

#include "probe/kernel_driver.h"
#include "probe/kernel_log.h"
#include "probe/user_driver.h"
#include "report/json_util.h"
#include "report/text.h"

namespace dlrig {

void RenderKernelDriver(TextWriter& out, const KernelDriverFacts& facts);
/// The kernel log's source and its newest Xid events (under the kernel driver section).
void RenderKernelLog(TextWriter& out, const KernelLogFacts& facts);
json KernelLogJson(const KernelLogFacts& facts);
void RenderUserDriver(TextWriter& out, const UserDriverFacts& facts);
json KernelDriverJson(const KernelDriverFacts& facts);
json UserDriverJson(const UserDriverFacts& facts);

/// "crw-rw-rw-" for a node.
std::string ModeText(char type, uint32_t mode);

}  // namespace dlrig
