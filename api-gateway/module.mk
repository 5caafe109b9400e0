# api-gateway/: libvxapi.a + vectron-api.
PROGRAMS += vectron-api:api-gateway:api-gateway/main.c

# The dashboard's files, compiled into libvxapi.a (api-gateway/dashboard.h).
DASHBOARD_FILES := $(addprefix api-gateway/dashboard/,index.html app.js style.css)
$(BUILD)/gen/dashboard_files.c: $(DASHBOARD_FILES) scripts/embed-files.sh
	@mkdir -p $(dir $@)
	scripts/embed-files.sh $@ dashboard.h dashboard $(DASHBOARD_FILES)
$(BUILD)/gen/dashboard_files.o: $(BUILD)/gen/dashboard_files.c
	$(CC) $(CPPFLAGS) -Iapi-gateway $(CFLAGS) -c $< -o $@
$(LIB_api-gateway): $(BUILD)/gen/dashboard_files.o
