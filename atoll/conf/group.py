from __future__ import annotations

from collections.abc import Sequence

from oslo_config import cfg


def register(conf: cfg.ConfigOpts, group: cfg.OptGroup, opts: Sequence[cfg.Opt]) -> None:
    """Register `opts` under a new copy of `group` on `conf`.

    oslo.config copies a registered OptGroup only shallowly; registering the same
    module-level group on two ConfigOpts would share their overrides.
    """
    conf.register_group(cfg.OptGroup(group.name, title=group.title, help=group.help))
    conf.register_opts(opts, group=group.name)
