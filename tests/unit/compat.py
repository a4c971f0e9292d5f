# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the unit tests take from ansible-core that not every supported version has.

patch_module_args (ansible.module_utils.testing) came with ansible-core 2.19; before it, a
module read its arguments from basic._ANSIBLE_ARGS when that was set, which is what the
equivalent below does. trust_as_template and literal make strings as Ansible holds them when
it read them from YAML: one it renders as a template, and one marked !unsafe (2.19 marks the
first, trusted; before 2.19 the second was a str subclass, AnsibleUnsafeText). The ansible-core matrix (tests/matrix) runs the units on 2.16 to 2.21.
"""

from __future__ import annotations

import contextlib
import json
from unittest import mock

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose args to the AnsibleModule instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError("The `args` arg must be a dict or None.")
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()):
            yield

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: every plain string is rendered, AnsibleUnsafeText is not
    from ansible.utils.unsafe_proxy import AnsibleUnsafeText

    def trust_as_template(value):
        """value as Ansible holds a string it renders as a template."""
        return value

    def literal(value):
        """value as Ansible holds a YAML string marked !unsafe, that it takes literally."""
        return AnsibleUnsafeText(value)
else:  # 2.19+: a plain string is not trusted as a template

    def literal(value):
        """value as Ansible holds a YAML string marked !unsafe, that it takes literally."""
        return value


__all__ = ["literal", "patch_module_args", "trust_as_template"]
