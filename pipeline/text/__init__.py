"""Stage 2, text: an entry becomes an article (canonical URL, feed text, language); a teaser
gets its page fetched and the page's main text extracted and cleaned."""
