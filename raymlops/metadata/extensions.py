"""Services that keep their own tables next to the metadata store's.

The registry keeps model versions and aliases, the tracker keeps metric histories: both
are layers above the store, with their own tables in the same database. A
:class:`StoreExtension` declares its tables (on
:data:`~raymlops.metadata.tables.metadata_obj`, so foreign keys can name
``artifacts.id``) and its remote proxy; ``store.extension(cls)`` gives the one instance
for a store, creating the tables the first time. Inside Ray workers with the default
SQLite store, ``store.extension(cls)`` returns the proxy, which calls the store actor,
and the actor serves the calls with its own ``store.extension(cls)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Table

from raymlops.core.config import Settings

if TYPE_CHECKING:  # annotations only: the SQL store is the extension's host
    from raymlops.metadata.store import MetadataStore

__all__ = ["StoreExtension"]


class StoreExtension:
    """A service with its own tables in the metadata store's database.

    Subclasses set ``tables`` and ``remote_class`` (the proxy used inside Ray workers, a
    :class:`~raymlops.metadata.remote.RemoteService` built with the settings and the
    extension's class) and take the store in ``__init__``.

    Args:
        store: the SQL metadata store whose database holds the tables.
    """

    tables: ClassVar[tuple[Table, ...]] = ()
    remote_class: ClassVar[type]

    def __init__(self, store: MetadataStore):
        store.create_tables(self.tables)
        self.store = store

    @classmethod
    def hosted(cls, store: MetadataStore, settings: Settings) -> Any:
        """The instance the store actor serves calls with."""
        return store.extension(cls)
