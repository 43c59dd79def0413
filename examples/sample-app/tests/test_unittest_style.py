"""The same cloud for a unittest suite: pocketstack.testing.Cloud as a context manager."""

import unittest

from sampleapp.publish import publish, published

from pocketstack.testing import Cloud


class PublishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cloud = Cloud()
        cls.cloud.start()
        cls.conn = cls.cloud.connection()

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()
        cls.cloud.stop()

    def tearDown(self):
        self.cloud.reset()

    def test_publish(self):
        publish(self.conn, "docs", {"a.txt": b"a"})
        self.assertEqual(published(self.conn, "docs"), {"a.txt": b"a"})

    def test_starts_clean(self):
        self.assertEqual(list(self.conn.object_store.containers()), [])
