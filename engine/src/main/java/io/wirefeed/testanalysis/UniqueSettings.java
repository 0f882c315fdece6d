package io.wirefeed.testanalysis;

import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;

/** The setting of Elasticsearch's `unique` filter. */
@AnalysisSettings
public interface UniqueSettings {
    @BooleanSetting(path = "only_on_same_position", defaultValue = false)
    boolean onlyOnSamePosition();
}
