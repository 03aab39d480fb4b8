# Django's zh_Hans formats write no thousands separator (10000); Chinese business documents and spreadsheets
# group by three with a comma (10,000), as the portal's numbers of parts and vehicles are read. The rest of
# Django's zh_Hans formats (dates: 2027年2月20日) stay.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
