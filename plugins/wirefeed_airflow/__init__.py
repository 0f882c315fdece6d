"""Airflow adapters for wirefeed: the Elasticsearch hook and the task callables.

Airflow puts `plugins/` on sys.path, so DAG files import `wirefeed_airflow`.
"""
