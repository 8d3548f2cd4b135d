// capture's redaction rule: secrets out of shell start-up files, what doctor reads kept.
#include "capture/redact.h"

#include <gtest/gtest.h>

namespace dlrig {
namespace {

constexpr const char* kHf = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345";

TEST(Redact, SecretNames) {
  for (const char* name :
       {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY", "aws_secret", "DB_PASSWORD",
        "hf-token", "GITHUB_AUTH", "CREDENTIALS_FILE", "SSH_PRIVATE", "WANDB_API_KEY"})
    EXPECT_TRUE(IsSecretName(name)) << name;
  for (const char* name : {"PATH", "LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_VISIBLE_DEVICES",
                           "NVIDIA_DRIVER_CAPABILITIES", "NCCL_DEBUG", "CONDA_PREFIX", "HOME",
                           "PYTHONPATH", "TORCH_CUDA_ARCH_LIST"})
    EXPECT_FALSE(IsSecretName(name)) << name;
}

TEST(Redact, ExportsAndAssignmentsOfSecretNames) {
  EXPECT_EQ(RedactShellSecrets("export HF_TOKEN=abc123\n"), "export HF_TOKEN=<redacted>\n");
  EXPECT_EQ(RedactShellSecrets("export OPENAI_API_KEY=\"a b c\"  # mine"),
            "export OPENAI_API_KEY=\"<redacted>\"  # mine");
  EXPECT_EQ(RedactShellSecrets("DB_PASSWORD='p@ss word'; echo hi"),
            "DB_PASSWORD='<redacted>'; echo hi");
  EXPECT_EQ(RedactShellSecrets("declare -x GH_TOKEN=xyz"), "declare -x GH_TOKEN=<redacted>");
  EXPECT_EQ(RedactShellSecrets("setenv API_KEY abcdef"), "setenv API_KEY <redacted>");
  EXPECT_EQ(RedactShellSecrets("set -gx WANDB_API_KEY abcdef"), "set -gx WANDB_API_KEY <redacted>");
  EXPECT_EQ(RedactShellSecrets("alias up='hub upload --hf-token=abc --repo x'"),
            "alias up='hub upload --hf-token=<redacted> --repo x'");
  EXPECT_EQ(RedactShellSecrets("mysql --password s3cret -h db"),
            "mysql --password <redacted> -h db");
}

TEST(Redact, TokenShapedValuesAnywhere) {
  std::string line = std::string("alias login='huggingface-cli login --token ") + kHf + "'";
  EXPECT_EQ(RedactShellSecrets(line), "alias login='huggingface-cli login --token <redacted>'");
  EXPECT_EQ(RedactSecretValues("# old: ghp_0123456789abcdefABCDEF0123456789abcd"),
            "# old: <redacted>");
  EXPECT_EQ(RedactSecretValues("X=sk-proj-0123456789abcdefghij"), "X=<redacted>");
  EXPECT_EQ(RedactSecretValues("pip install scikit-learn sk-learn hf_hub"),
            "pip install scikit-learn sk-learn hf_hub");  // too short to be tokens
  EXPECT_EQ(
      RedactSecretValues("PIP_INDEX_URL=https://__token__:pypi-AgEIcHlwaS5vcmc@example.org/simple"),
      "PIP_INDEX_URL=https://__token__:<redacted>@example.org/simple");
  EXPECT_EQ(RedactSecretValues("see https://example.org/a:b@c"), "see https://example.org/a:b@c");
}

TEST(Redact, WhatDoctorReadsIsKeptAndLinesStayWhereTheyWere) {
  std::string bashrc =
      "# .bashrc\n"
      "export PATH=/usr/local/cuda-12.4/bin:$PATH\n"
      "export LD_LIBRARY_PATH=/usr/local/cuda-12.4/lib64:$LD_LIBRARY_PATH\n"
      "export CUDA_HOME=/usr/local/cuda-12.4\n"
      "export CUDA_VISIBLE_DEVICES=0,1\n"
      "__conda_setup=\"$('/opt/conda/bin/conda' 'shell.bash' 'hook' 2> /dev/null)\"\n"
      "export HF_TOKEN=" +
      std::string(kHf) +
      "\n"
      "\n";
  std::string out = RedactShellSecrets(bashrc);
  EXPECT_EQ(out.find(kHf), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'),
            std::count(bashrc.begin(), bashrc.end(), '\n'));
  EXPECT_EQ(out.substr(0, bashrc.find("export HF_TOKEN")),
            bashrc.substr(0, bashrc.find("export HF_TOKEN")));
  EXPECT_NE(out.find("export HF_TOKEN=<redacted>\n"), std::string::npos);
}

}  // namespace
}  // namespace dlrig
