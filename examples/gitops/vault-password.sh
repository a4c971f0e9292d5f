#!/bin/sh
# A --vault-password-file script: prints the Ansible Vault password that the CI keeps as a secret
# variable (GitLab: a masked, protected CI/CD variable; GitHub: a repository or environment secret),
# so that the password is never written to a file of the job.
#   ansible-playbook site.yml --vault-password-file examples/gitops/vault-password.sh
# The variable's name: ANSIBLE_VAULT_PASSWORD, or the one REDIS_VAULT_PASSWORD_VARIABLE names.
variable=${REDIS_VAULT_PASSWORD_VARIABLE:-ANSIBLE_VAULT_PASSWORD}
case $variable in
  *[!A-Za-z0-9_]* | [0-9]* | "")
    echo "vault-password.sh: REDIS_VAULT_PASSWORD_VARIABLE='$variable' is not a variable name" >&2
    exit 2 ;;
esac
eval "password=\${$variable:-}"
if [ -z "$password" ]; then
  echo "vault-password.sh: $variable is empty or not set. Fix: define it as a secret variable of the" \
    "CI (masked and protected), or export it before running ansible-playbook." >&2
  exit 1
fi
printf '%s\n' "$password"
