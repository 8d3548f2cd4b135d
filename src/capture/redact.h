// What `dlrig capture` takes out before an archive leaves the machine: secrets in shell start-up
// files (~/.bashrc, /etc/profile.d/*.sh, /etc/environment...), which capture otherwise copies
// word for word, and token-shaped values anywhere in the text it writes beside the tree.
//
// The rule (docs/capture.md):
//  - the value of an assignment or option whose name looks secret is replaced by "<redacted>":
//    a name containing TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, KEY, AUTH, CREDENTIAL or
//    PRIVATE, in any case, `-` read as `_` ("export HF_TOKEN=...", "HUGGING_FACE_HUB_TOKEN="...",
//    "setenv API_KEY ...", "set -gx OPENAI_API_KEY ...", "--hf-token=...", "--password ...");
//    names doctor reads are never touched (PATH, LD_LIBRARY_PATH, and CUDA_*, NVIDIA_*, NCCL_*,
//    CONDA_*, LD_* names);
//  - values shaped like well-known tokens are replaced wherever they stand: Hugging Face hf_...,
//    GitHub ghp_/gho_/ghu_/ghs_/ghr_/github_pat_..., OpenAI-style sk-..., GitLab glpat-...,
//    Slack xox?-..., AWS AKIA... (each with at least 16 token characters after the prefix);
//  - the password of a URL ("https://user:PASSWORD@host") is replaced.
// Lines are never added, removed or joined, so line numbers doctor reports stay right.
#pragma once

#include <string>
#include <string_view>

namespace dlrig {

/// The marker a redacted value becomes.
inline constexpr std::string_view kRedacted = "<redacted>";

/// True when a variable or option name looks like it holds a secret (the rule above). Pure.
bool IsSecretName(std::string_view name);

/// A shell start-up file with every secret of the rule above replaced. Pure.
std::string RedactShellSecrets(std::string_view text);

/// Only the token-shaped values and URL passwords replaced (for text that is not shell). Pure.
std::string RedactSecretValues(std::string_view text);

}  // namespace dlrig
